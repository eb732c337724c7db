// The subcommands of dlc.
#ifndef DLC_TOOLS_DLC_COMMANDS_H
#define DLC_TOOLS_DLC_COMMANDS_H

#include "Session.h"

namespace dlc {
extern llvm::cl::OptionCategory category;
extern llvm::cl::SubCommand trainCmd, compileCmd, gradcheckCmd, predictCmd,
    cvCmd;
CommonOptions commonOptions();

int runTrain();
int runCompile();
int runGradcheck();
int runPredict();
int runCrossValidate();

/// Writes `contents` to `path` atomically (temporary file + rename); prints
/// the error otherwise.
bool writeOutputFile(const std::string &path, llvm::StringRef contents);
} // namespace dlc

#endif // DLC_TOOLS_DLC_COMMANDS_H
