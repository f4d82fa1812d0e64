from bountybox.cli import main

main()
