"""`python -m keras_conformance` = the `keras-conformance` command."""
import sys

from keras_conformance.cli import main

sys.exit(main())
