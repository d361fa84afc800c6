# -*- Python -*-
# lit configuration of the msa test suites (modelled on mlir/examples/standalone).

import os
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MSA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.msa_obj_root, "test")
# Unit/ is a nested suite found through its own site config: do not exclude it.
config.excludes = ["Inputs", "CMakeLists.txt", "README.md", "lit.cfg.py",
                   "lit.site.cfg.py", "unittests"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

config.substitutions.append(("%msa_src_root", config.msa_src_root))
config.substitutions.append(("%python", "python3"))
tools = [ToolSubst(t, unresolved="fatal")
         for t in ["msa-opt", "msa-run", "msa-compile"]
         if os.path.exists(os.path.join(config.msa_tools_dir, t))]
llvm_config.add_tool_substitutions(tools, [config.msa_tools_dir,
                                           config.llvm_tools_dir])

# ptxas (the CUDA toolkit's) makes cubins; msa-compile finds it the same way.
import shutil
if (os.access(os.path.join(os.environ.get("CUDA_HOME", "/nonexistent"), "bin", "ptxas"), os.X_OK)
        or os.access("/usr/local/cuda/bin/ptxas", os.X_OK) or shutil.which("ptxas")):
    config.available_features.add("ptxas")

if config.msa_have_cuda:
    config.available_features.add("cuda")
    # A device is present when the driver loads and reports one.
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                             timeout=20).stdout
        if b"GPU" in out:
            config.available_features.add("cuda-device")
    except (OSError, subprocess.TimeoutExpired):
        pass
