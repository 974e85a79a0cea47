// tools/node/node_roles.h — what `faultline-node` runs in each role, on the
// POSIX event loop with real files and TCP: the same core/replication code
// the simulation drives.
#pragma once

#include "tools/node/node_args.h"

namespace faultline::node {

// Each returns the process's exit code (0 done, 1 failed, 2 an unusable
// --key-file) and prints one summary line on stdout, or one error line on
// stderr.
int RunLeader(const NodeArgs& args);
int RunFollower(const NodeArgs& args);
int RunVerify(const NodeArgs& args);

}  // namespace faultline::node
