# lit configuration of the dlc test suite.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "dlc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".dlg", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py", "oracle.py", "classifiers.py", "parity.py", "driver.c", "torch_parity.py", "fusion_parity.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dlc_obj_root, "test")

# Debian's python3 has numpy, scikit-learn and PyTorch (the oracles); a
# python3 earlier on PATH (pyenv, venv) may not.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%examples", os.path.join(config.dlc_src_root, "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
tool_dirs = [config.dlc_tools_dir, config.llvm_tools_dir]
# dlc and dlc-opt are found on PATH rather than substituted: a substitution
# would also rewrite "dlc" inside arguments such as --emit=dlc.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.dlc_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["split-file", "not"], tool_dirs)
config.substitutions.append(("%dlc_obj_root", config.dlc_obj_root))
config.substitutions.append(("%dlc_src_root", config.dlc_src_root))
