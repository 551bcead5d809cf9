from goldenchain.cli import main

main()
