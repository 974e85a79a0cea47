# tools/lint/check_core_symbols.cmake — the second line of defence behind the
# determinism lint: what core/ (outside core/posix) actually references.
#
# The lint reads source text, so a macro, a template or a name it does not
# know can slip past it. The compiled code cannot hide: this script lists the
# undefined symbols of the given static libraries or object files
# (`nm -C --undefined-only`) and fails, naming library, object and symbol, on
# any that reaches a real clock, a thread or lock, OS randomness, the
# environment, a file, a process or any other syscall.
#
#   cmake -DNM=/usr/bin/nm -P check_core_symbols.cmake -- LIBRARY_OR_OBJECT...
#
# Exit status: 0 if no forbidden symbol is referenced, 1 otherwise (or if nm
# fails on an input, or lists no object of an archive).

# RULE=REGEX over one demangled symbol name, the first match counts (brackets
# in names appear as <>, see below). An Abseil symbol carries its
# inline (LTS) namespace: absl::debian3::Now().
set(absl "^absl::([a-z0-9_]+::)?")
set(denylist
  "os-sync=^pthread_(mutex|cond|rwlock|spin|barrier|once)"
  "thread=^(std::thread::|std::jthread::|std::this_thread::|pthread_|thrd_|sched_yield$)"
  "os-sync=^(std::condition_variable|std::_V2::condition_variable_any|std::__once_|__once_proxy$|std::__basic_future|std::__future_base|std::counting_semaphore|std::__atomic_semaphore|mtx_|cnd_)"
  "os-sync=${absl}(Mutex|CondVar|Notification|BlockingCounter|Barrier|base_internal::SpinLock)(::|\\()"
  "real-clock=^(time|clock|clock_gettime|clock_getres|gettimeofday|timespec_get|ftime|localtime|localtime_r|mktime|tzset)$"
  "real-clock=^std::chrono::(_V2::)?[a-z_]+_clock::now\\(|^std::chrono::(current_zone|get_tzdb|tzdb)"
  "real-clock=${absl}(Now|GetCurrentTimeNanos|SleepFor|LocalTimeZone)\\(|${absl}base_internal::(Unscaled)?CycleClock::|^(times|getrusage)$"
  "sleep=^(sleep|usleep|nanosleep|clock_nanosleep)$"
  "randomness=^(rand|srand|rand_r|random|srandom|random_r|srandom_r|initstate|setstate|drand48|erand48|lrand48|nrand48|mrand48|jrand48|srand48|seed48|lcong48|drand48_r|lrand48_r|getrandom|getentropy|arc4random|arc4random_uniform|arc4random_buf)$"
  "randomness=^std::random_device|${absl}random_internal::"
  "environment=^(getenv|secure_getenv|setenv|unsetenv|putenv|clearenv|environ|__environ)$|${absl}flags_internal::"
  "file-io=^(fopen|fopen64|freopen|freopen64|fdopen|tmpfile|tmpfile64|tmpnam|mkstemp|mkstemp64|opendir|fdopendir|readdir|readdir64|remove|rename|renameat|mkdtemp|tempnam|tmpnam_r)$"
  "file-io=^(stdin|scanf|vscanf|wscanf|getchar|getwchar|gets|__isoc99_scanf|__isoc99_vscanf|__isoc99_wscanf|__isoc23_scanf|__isoc23_vscanf|__gets_chk)$|^std::w?cin$"
  "file-io=^std::filesystem::|^std::(__cxx11::)?basic_(i|o)?fstream|^std::basic_filebuf|^std::__basic_file"
  "process=^(system|popen|pclose|fork|vfork|execl|execlp|execle|execv|execvp|execvpe|execve|posix_spawn|posix_spawnp|daemon)$"
  "syscalls=^(open|open64|openat|openat64|creat|creat64|read|write|pread|pread64|pwrite|pwrite64|readv|writev|preadv|preadv2|pwritev|pwritev2|close|lseek|lseek64|fsync|fdatasync|sync|syncfs|sync_file_range|ftruncate|ftruncate64|truncate|fallocate|fallocate64|posix_fallocate|unlink|unlinkat|mkdir|mkdirat|rmdir|stat|stat64|fstat|fstat64|lstat|fstatat|statx|access)$"
  "syscalls=^(socket|socketpair|connect|accept|accept4|bind|listen|send|sendto|sendmsg|recv|recvfrom|recvmsg|setsockopt|getsockopt|shutdown|getaddrinfo|poll|ppoll|select|pselect|epoll_create|epoll_create1|epoll_ctl|epoll_wait|epoll_pwait|eventfd|timerfd_create|timerfd_settime|signalfd|pipe|pipe2|dup|dup2|dup3)$"
  "syscalls=^(mmap|mmap64|munmap|mprotect|madvise|ioctl|fcntl|fcntl64|syscall|getpid|getppid|gettid|kill|raise|signal|sigaction|sigprocmask|alarm|setitimer|dlopen|dlsym|dlvsym)$"
  "syscalls=^(sysconf|getcwd|__getcwd_chk|chdir|fchdir|realpath|__realpath_chk|statvfs|statvfs64|fstatvfs|fstatvfs64|statfs|fstatfs|uname|gethostname|getuid|geteuid|getrlimit|getauxval|prctl|faccessat|rmdir)$"
  "syscalls=^__(read|pread|pread64|open|open64|openat|openat64|recv|recvfrom)_(chk|2)$|^__(f|l)?xstat(64)?$"
)

if(NOT NM)
  message(FATAL_ERROR "check_core_symbols: pass -DNM=<path to nm>")
endif()
set(inputs "")
set(after_dashes FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 0 ${last})
  if(after_dashes)
    list(APPEND inputs "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
if(NOT inputs)
  message(FATAL_ERROR "check_core_symbols: no library or object file given (after --)")
endif()

set(violations 0)
foreach(input IN LISTS inputs)
  execute_process(COMMAND "${NM}" -C --undefined-only "${input}"
    OUTPUT_VARIABLE listing ERROR_VARIABLE nm_error RESULT_VARIABLE nm_status)
  if(NOT nm_status EQUAL 0)
    message(FATAL_ERROR "check_core_symbols: ${NM} failed on ${input}: ${nm_error}")
  endif()
  get_filename_component(library "${input}" NAME)
  set(object "${library}")
  # nm names each member of an archive: an archive listed without one was not
  # read (an nm that does not know the format may say nothing at all).
  if(input MATCHES "\\.a$" AND NOT listing MATCHES "(^|\n)[^ \n][^\n]*:\n")
    message(FATAL_ERROR "check_core_symbols: ${NM} listed no object of ${input}: "
      "it cannot be checked")
  endif()
  # List-safe: ';' separates list elements, and brackets ([abi:cxx11])
  # would group them.
  string(REPLACE ";" "," listing "${listing}")
  string(REPLACE "[" "<" listing "${listing}")
  string(REPLACE "]" ">" listing "${listing}")
  string(REPLACE "\n" ";" lines "${listing}")
  foreach(line IN LISTS lines)
    if(line MATCHES "^([^ ].*):$")
      set(object "${library}(${CMAKE_MATCH_1})")
    elseif(line MATCHES "^ +[UwvV] (.+)$")
      set(symbol "${CMAKE_MATCH_1}")
      foreach(entry IN LISTS denylist)
        string(FIND "${entry}" "=" split)
        string(SUBSTRING "${entry}" 0 ${split} rule)
        math(EXPR start "${split} + 1")
        string(SUBSTRING "${entry}" ${start} -1 pattern)
        if(symbol MATCHES "${pattern}")
          message("${object}: references ${symbol} (${rule})")
          math(EXPR violations "${violations} + 1")
          break()
        endif()
      endforeach()
    endif()
  endforeach()
endforeach()

list(LENGTH inputs input_count)
message("core symbol check: ${input_count} inputs, ${violations} forbidden references")
if(violations GREATER 0)
  message(FATAL_ERROR "core/ outside core/posix references the world directly: use the io and "
    "runtime seams")
endif()
