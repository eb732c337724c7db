// The subcommands of dlc.
#ifndef DLC_TOOLS_DLC_COMMANDS_H
#define DLC_TOOLS_DLC_COMMANDS_H

#include "Session.h"

namespace dlc {
extern llvm::cl::OptionCategory category;
extern llvm::cl::SubCommand trainCmd, compileCmd, gradcheckCmd;
CommonOptions commonOptions();

int runTrain();
int runCompile();
int runGradcheck();

/// Writes `contents` to `path` atomically (temporary file + rename).
bool writeFileAtomically(const std::string &path, llvm::StringRef contents);
} // namespace dlc

#endif // DLC_TOOLS_DLC_COMMANDS_H
