"""What goes to management and to a successor: the quarterly summary, its documents, feedback, the handover pack."""
