import sys

from srekit.cli import main

sys.exit(main())
