import sys

from daprjobs.cli import main

sys.exit(main())
