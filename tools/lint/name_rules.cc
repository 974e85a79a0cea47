// tools/lint/name_rules.cc — forbidden names (see rules.h).
//
// Every name in a file is resolved through its Scope (aliases, using-
// directives) to the full names it may denote, and each is looked up in two
// tables: qualified library names, matched as the name or a prefix of it
// (`std::this_thread` covers `std::this_thread::sleep_for`), and C/POSIX
// functions, matched written as `f`, `::f` or `std::f`. A C name that is also
// a common member or method name (`time`, `read`, `sleep`) counts unqualified
// only where it is called as a free function: not after `.` or `->`, and not
// where it is being declared (after a type: `int64_t time() const`).
#include <string>
#include <string_view>

#include "tools/lint/rules.h"

namespace faultline::lint {
namespace {

struct Rule {
  const char* name;
  const char* message;
};

const Rule kThread{"thread", "no threads in core/: spawn fibers with runtime::Spawn"};
const Rule kOsSync{"os-sync", "no OS locks or blocking futures in core/: use runtime::Mutex, Event, Channel, Future"};
const Rule kSleep{"sleep", "no sleeping in core/: use Executor::SleepFor"};
const Rule kClock{"real-clock", "no real clocks in core/: use io::Clock / Executor::NowNs"};
const Rule kRandom{"randomness",
                   "no OS randomness, std engines, distributions or shuffles in core/: take "
                   "randomness as an input"};
const Rule kEnv{"environment", "no environment variables or flags in core/: pass options explicitly"};
const Rule kAbslClock{"absl-clock", "no real clocks in core/: use io::Clock / Executor::NowNs"};
const Rule kAbslRandom{"absl-random", "absl random generators are salted per process: not in core/"};
const Rule kFileIo{"file-io", "no files outside the io seam in core/: use io::FileSystem"};
const Rule kProcess{"process", "no processes or shell commands in core/"};
const Rule kSyscall{"syscalls", "no OS calls in core/ outside core/posix: use the io seam"};
const Rule kSaltedHash{"salted-hash",
                       "absl::Hash is salted per process: a value computed from it changes from run "
                       "to run; hash with a fixed function"};
const Rule kAsm{"inline-asm",
                "no inline assembly in core/: neither this lint nor the symbol check sees what it does"};

struct Qualified {
  std::string_view name;
  const Rule* rule;
};

const Qualified kQualified[] = {
    {"std::thread", &kThread}, {"std::jthread", &kThread}, {"std::this_thread", &kThread},
    {"std::async", &kThread}, {"boost::thread", &kThread}, {"boost::this_thread", &kThread},
    {"std::mutex", &kOsSync}, {"std::recursive_mutex", &kOsSync}, {"std::timed_mutex", &kOsSync},
    {"std::recursive_timed_mutex", &kOsSync}, {"std::shared_mutex", &kOsSync},
    {"std::shared_timed_mutex", &kOsSync}, {"std::condition_variable", &kOsSync},
    {"std::condition_variable_any", &kOsSync}, {"std::counting_semaphore", &kOsSync},
    {"std::binary_semaphore", &kOsSync}, {"std::latch", &kOsSync}, {"std::barrier", &kOsSync},
    {"std::call_once", &kOsSync}, {"std::once_flag", &kOsSync}, {"std::future", &kOsSync},
    {"std::shared_future", &kOsSync}, {"std::promise", &kOsSync},
    {"std::packaged_task", &kOsSync}, {"absl::Mutex", &kOsSync}, {"absl::MutexLock", &kOsSync},
    {"absl::ReaderMutexLock", &kOsSync}, {"absl::WriterMutexLock", &kOsSync},
    {"absl::MutexLockMaybe", &kOsSync}, {"absl::ReleasableMutexLock", &kOsSync},
    {"absl::CondVar", &kOsSync}, {"absl::Notification", &kOsSync},
    {"absl::BlockingCounter", &kOsSync}, {"absl::Barrier", &kOsSync},
    {"absl::call_once", &kOsSync}, {"absl::once_flag", &kOsSync},
    {"absl::base_internal::SpinLock", &kOsSync},
    {"std::chrono::system_clock", &kClock}, {"std::chrono::steady_clock", &kClock},
    {"std::chrono::high_resolution_clock", &kClock}, {"std::chrono::utc_clock", &kClock},
    {"std::chrono::tai_clock", &kClock}, {"std::chrono::gps_clock", &kClock},
    {"std::chrono::file_clock", &kClock}, {"std::chrono::current_zone", &kEnv},
    {"std::random_device", &kRandom}, {"std::shuffle", &kRandom}, {"std::random_shuffle", &kRandom},
    {"std::sample", &kRandom}, {"std::ranges::shuffle", &kRandom}, {"std::ranges::sample", &kRandom},
    {"std::mt19937", &kRandom}, {"std::mt19937_64", &kRandom}, {"std::minstd_rand", &kRandom},
    {"std::minstd_rand0", &kRandom}, {"std::ranlux24", &kRandom}, {"std::ranlux48", &kRandom},
    {"std::ranlux24_base", &kRandom}, {"std::ranlux48_base", &kRandom}, {"std::knuth_b", &kRandom},
    {"std::default_random_engine", &kRandom}, {"std::linear_congruential_engine", &kRandom},
    {"std::mersenne_twister_engine", &kRandom}, {"std::subtract_with_carry_engine", &kRandom},
    {"std::discard_block_engine", &kRandom}, {"std::independent_bits_engine", &kRandom},
    {"std::shuffle_order_engine", &kRandom}, {"std::generate_canonical", &kRandom},
    {"std::seed_seq", &kRandom}, {"absl::GetFlag", &kEnv}, {"absl::SetFlag", &kEnv},
    {"absl::Now", &kAbslClock}, {"absl::GetCurrentTimeNanos", &kAbslClock},
    {"absl::SleepFor", &kAbslClock}, {"absl::LocalTimeZone", &kAbslClock},
    {"absl::BitGen", &kAbslRandom}, {"absl::InsecureBitGen", &kAbslRandom},
    {"absl::Uniform", &kAbslRandom}, {"absl::Bernoulli", &kAbslRandom},
    {"absl::Beta", &kAbslRandom}, {"absl::Exponential", &kAbslRandom},
    {"absl::Gaussian", &kAbslRandom}, {"absl::LogUniform", &kAbslRandom},
    {"absl::Poisson", &kAbslRandom}, {"absl::Zipf", &kAbslRandom},
    {"absl::MakeSeedSeq", &kAbslRandom}, {"absl::random_internal", &kAbslRandom},
    {"std::filesystem", &kFileIo}, {"std::experimental::filesystem", &kFileIo},
    {"boost::filesystem", &kFileIo}, {"std::ofstream", &kFileIo}, {"std::ifstream", &kFileIo},
    {"std::fstream", &kFileIo}, {"std::wofstream", &kFileIo}, {"std::wifstream", &kFileIo},
    {"std::wfstream", &kFileIo}, {"std::basic_ofstream", &kFileIo},
    {"std::basic_ifstream", &kFileIo}, {"std::basic_fstream", &kFileIo},
    {"std::filebuf", &kFileIo}, {"std::wfilebuf", &kFileIo}, {"std::basic_filebuf", &kFileIo},
    {"boost::process", &kProcess},
    // Found late: the cycle counter behind an inline function, the salted
    // hash, parallel algorithms (threads), experimental randomness, the
    // machine's time zone database and standard input.
    {"absl::base_internal::CycleClock", &kClock},
    {"absl::base_internal::UnscaledCycleClock", &kClock}, {"absl::Hash", &kSaltedHash},
    {"absl::HashOf", &kSaltedHash}, {"std::execution", &kThread},
    {"std::experimental::randint", &kRandom}, {"std::experimental::reseed", &kRandom},
    {"std::experimental::shuffle", &kRandom}, {"std::experimental::sample", &kRandom},
    {"std::chrono::locate_zone", &kEnv}, {"std::chrono::get_tzdb", &kEnv},
    {"std::chrono::get_tzdb_list", &kEnv}, {"std::chrono::reload_tzdb", &kEnv},
    {"std::cin", &kFileIo}, {"std::wcin", &kFileIo},
};

struct CName {
  std::string_view name;
  const Rule* rule;
  bool common_word;  // also a usual method name: counts unqualified only as a free call
};

const CName kCNames[] = {
    {"sleep", &kSleep, true}, {"usleep", &kSleep, false}, {"nanosleep", &kSleep, false},
    {"clock_nanosleep", &kSleep, false}, {"sched_yield", &kThread, false},
    {"time", &kClock, true}, {"clock", &kClock, true}, {"clock_gettime", &kClock, false},
    {"clock_getres", &kClock, false}, {"gettimeofday", &kClock, false},
    {"timespec_get", &kClock, false}, {"ftime", &kClock, false}, {"localtime", &kEnv, true},
    {"localtime_r", &kEnv, false}, {"mktime", &kEnv, false},
    {"rand", &kRandom, false}, {"srand", &kRandom, false}, {"rand_r", &kRandom, false},
    {"random", &kRandom, true}, {"srandom", &kRandom, false}, {"random_r", &kRandom, false},
    {"drand48", &kRandom, false}, {"erand48", &kRandom, false}, {"lrand48", &kRandom, false},
    {"nrand48", &kRandom, false}, {"mrand48", &kRandom, false}, {"jrand48", &kRandom, false},
    {"srand48", &kRandom, false}, {"seed48", &kRandom, false}, {"lcong48", &kRandom, false},
    {"arc4random", &kRandom, false}, {"arc4random_uniform", &kRandom, false},
    {"getrandom", &kRandom, false}, {"getentropy", &kRandom, false},
    {"getenv", &kEnv, false}, {"secure_getenv", &kEnv, false}, {"setenv", &kEnv, false},
    {"unsetenv", &kEnv, false}, {"putenv", &kEnv, false}, {"clearenv", &kEnv, false},
    {"environ", &kEnv, false}, {"__environ", &kEnv, false},
    {"fopen", &kFileIo, false}, {"fopen64", &kFileIo, false}, {"freopen", &kFileIo, false},
    {"fdopen", &kFileIo, false}, {"tmpfile", &kFileIo, false}, {"tmpnam", &kFileIo, false},
    {"mkstemp", &kFileIo, false}, {"opendir", &kFileIo, false}, {"readdir", &kFileIo, false},
    {"system", &kProcess, true}, {"popen", &kProcess, false}, {"fork", &kProcess, true},
    {"vfork", &kProcess, false}, {"execl", &kProcess, false}, {"execlp", &kProcess, false},
    {"execle", &kProcess, false}, {"execv", &kProcess, false}, {"execvp", &kProcess, false},
    {"execve", &kProcess, false}, {"posix_spawn", &kProcess, false},
    {"open", &kSyscall, true}, {"openat", &kSyscall, false}, {"creat", &kSyscall, false},
    {"read", &kSyscall, true}, {"write", &kSyscall, true}, {"pread", &kSyscall, true},
    {"pwrite", &kSyscall, true}, {"readv", &kSyscall, true}, {"writev", &kSyscall, true},
    {"close", &kSyscall, true}, {"lseek", &kSyscall, false}, {"fsync", &kSyscall, true},
    {"fdatasync", &kSyscall, false}, {"ftruncate", &kSyscall, false},
    {"fallocate", &kSyscall, false}, {"unlink", &kSyscall, true}, {"socket", &kSyscall, true},
    {"connect", &kSyscall, true}, {"accept", &kSyscall, true}, {"bind", &kSyscall, true},
    {"listen", &kSyscall, true}, {"send", &kSyscall, true}, {"recv", &kSyscall, true},
    {"poll", &kSyscall, true}, {"select", &kSyscall, true}, {"epoll_create1", &kSyscall, false},
    {"epoll_ctl", &kSyscall, false}, {"epoll_wait", &kSyscall, false}, {"mmap", &kSyscall, false},
    {"munmap", &kSyscall, false}, {"mprotect", &kSyscall, false}, {"ioctl", &kSyscall, false},
    {"fcntl", &kSyscall, false}, {"syscall", &kSyscall, false}, {"getpid", &kSyscall, false},
    {"gettid", &kSyscall, false}, {"kill", &kSyscall, true}, {"raise", &kSyscall, true},
    {"signal", &kSyscall, true}, {"sigaction", &kSyscall, false}, {"dlopen", &kSyscall, false},
    {"dlsym", &kSyscall, false}, {"dlvsym", &kSyscall, false},
    {"rename", &kFileIo, true}, {"renameat", &kFileIo, false}, {"mkdtemp", &kFileIo, false},
    {"tempnam", &kFileIo, false}, {"tmpnam_r", &kFileIo, false}, {"stdin", &kFileIo, false},
    {"scanf", &kFileIo, false}, {"vscanf", &kFileIo, false}, {"wscanf", &kFileIo, false},
    {"getchar", &kFileIo, false}, {"getwchar", &kFileIo, false}, {"gets", &kFileIo, false},
    {"stat", &kSyscall, true}, {"fstat", &kSyscall, false}, {"lstat", &kSyscall, false},
    {"fstatat", &kSyscall, false}, {"statx", &kSyscall, false}, {"access", &kSyscall, true},
    {"faccessat", &kSyscall, false}, {"mkdir", &kSyscall, true}, {"mkdirat", &kSyscall, false},
    {"rmdir", &kSyscall, true}, {"unlinkat", &kSyscall, false}, {"truncate", &kSyscall, true},
    {"sync", &kSyscall, true}, {"syncfs", &kSyscall, false}, {"sync_file_range", &kSyscall, false},
    {"posix_fallocate", &kSyscall, false}, {"dup", &kSyscall, true}, {"dup2", &kSyscall, false},
    {"dup3", &kSyscall, false}, {"pipe", &kSyscall, true}, {"pipe2", &kSyscall, false},
    {"sysconf", &kSyscall, false}, {"getcwd", &kSyscall, false}, {"chdir", &kSyscall, false},
    {"fchdir", &kSyscall, false}, {"realpath", &kSyscall, false}, {"statvfs", &kSyscall, true},
    {"fstatvfs", &kSyscall, false}, {"statfs", &kSyscall, true}, {"fstatfs", &kSyscall, false},
    {"uname", &kSyscall, true}, {"gethostname", &kSyscall, false}, {"getuid", &kSyscall, false},
    {"geteuid", &kSyscall, false}, {"getrlimit", &kSyscall, false},
    {"getauxval", &kSyscall, false}, {"prctl", &kSyscall, false},
    {"getrusage", &kClock, false}, {"times", &kClock, true},
    {"asm", &kAsm, false}, {"__asm", &kAsm, false}, {"__asm__", &kAsm, false},
    // The CPU's own clock and random numbers, which leave no symbol behind.
    {"__rdtsc", &kClock, false}, {"__rdtscp", &kClock, false}, {"_rdtsc", &kClock, false},
    {"__builtin_ia32_rdtsc", &kClock, false}, {"__builtin_ia32_rdtscp", &kClock, false},
    {"__builtin_readcyclecounter", &kClock, false},
};

// C names that are families: pthread_create, thrd_sleep, mtx_lock, ...
const Qualified kCPrefixes[] = {
    {"pthread_", &kThread}, {"thrd_", &kThread}, {"mtx_", &kOsSync}, {"cnd_", &kOsSync},
    {"_rdrand", &kRandom}, {"_rdseed", &kRandom}, {"__builtin_ia32_rdrand", &kRandom},
    {"__builtin_ia32_rdseed", &kRandom}};

bool HasPrefix(std::string_view full, std::string_view prefix) {
  return full == prefix ||
         (full.size() > prefix.size() + 2 && full.substr(0, prefix.size()) == prefix &&
          full.substr(prefix.size(), 2) == "::");
}

// `f(` where f is a free function being called, not declared.
bool IsFreeCall(const std::vector<Token>& tokens, const WrittenName& name) {
  if (name.end >= tokens.size() || !Is(tokens[name.end], "(")) return false;
  if (name.first == 0) return true;
  const Token& before = tokens[name.first - 1];
  if (before.kind == TokenKind::kIdentifier) return IsExpressionKeyword(before.text);
  return !Is(before, ">") && !Is(before, "~");
}

// The C library functions that <cstdlib>, <cstdio>, <ctime> and <csignal>
// also declare in std (std::bind or std::accumulate are not C functions).
bool IsInStd(std::string_view name) {
  for (std::string_view c : {"rand", "srand", "getenv", "system", "time", "clock", "fopen",
                             "freopen", "tmpfile", "tmpnam", "signal", "raise", "timespec_get",
                             "localtime", "mktime", "rename", "scanf", "vscanf", "getchar"}) {
    if (c == name) return true;
  }
  return false;
}

// The C function `full` names (`f` or `std::f`), if any.
const Rule* CRuleFor(std::string_view full, const std::vector<Token>& tokens,
                     const WrittenName& name) {
  if (full.substr(0, 5) == "std::") {
    full.remove_prefix(5);
    if (!IsInStd(full)) return nullptr;
  }
  if (full.find("::") != std::string_view::npos) return nullptr;
  const bool written_bare = !name.global && name.parts.size() == 1;
  // `remove` is also the std algorithm, found by argument-dependent lookup:
  // only `::remove` is surely the C function.
  if (full == "remove" && name.global) return &kFileIo;
  for (const CName& c : kCNames) {
    if (c.name != full) continue;
    if (c.common_word && written_bare && !IsFreeCall(tokens, name)) return nullptr;
    return c.rule;
  }
  for (const Qualified& prefix : kCPrefixes) {
    if (full.substr(0, prefix.name.size()) == prefix.name) return prefix.rule;
  }
  return nullptr;
}

const Rule* RuleFor(const std::string& full, const std::vector<Token>& tokens,
                    const WrittenName& name) {
  for (const Qualified& q : kQualified) {
    if (HasPrefix(full, q.name)) return q.rule;
  }
  const std::string_view suffix = "_distribution";
  if (full.substr(0, 5) == "std::" && full.find("::", 5) == std::string::npos &&
      full.size() > suffix.size() && full.substr(full.size() - suffix.size()) == suffix) {
    return &kRandom;
  }
  return CRuleFor(full, tokens, name);
}

}  // namespace

void CheckNames(const FileContext& file) {
  const std::vector<Token>& tokens = file.tokens;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!StartsName(tokens, i)) continue;
    const auto name = ReadName(tokens, i);
    if (!name || name->member) continue;
    for (const std::string& full : Resolve(*name, file.scope)) {
      if (const Rule* rule = RuleFor(full, tokens, *name)) {
        file.Report(tokens[name->first].line, rule->name, rule->message);
        break;
      }
    }
  }
}

}  // namespace faultline::lint
