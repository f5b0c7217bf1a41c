from tanet.cli import main

main()
