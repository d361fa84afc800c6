# -*- Python -*-
# GoogleTest binaries (names ending in "Tests") run as lit tests.

import os

import lit.formats

config.name = "MSA-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.msa_obj_root, "test", "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(config.llvm_build_mode, "Tests")
