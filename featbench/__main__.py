"""``python -m featbench`` runs the command line."""
from featbench.cli import main

main()
