from shoplens.cli import main

main()
