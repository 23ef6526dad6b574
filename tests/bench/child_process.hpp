#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace onnxq::bench {

struct ChildResult {
  int exit_code = -1;  // 128 + signal when killed
  double seconds = 0;
  uint64_t max_rss_bytes = 0;
};

// Runs args[0] from PATH without a shell, stdout and stderr going to the given files (or
// /dev/null), with `env` added to the environment, and waits with wait4() for the child's
// own resource usage.
ChildResult run(const std::vector<std::string>& args, const std::filesystem::path& out = "/dev/null",
                const std::filesystem::path& err = "/dev/null", const std::map<std::string, std::string>& env = {});

double median(std::vector<double> values);

// A child's wall seconds, its own CPU seconds (user + sys) and peak RSS.
struct Timed {
  double wall = 0, cpu = 0;
  uint64_t max_rss_bytes = 0;
  int exit_code = 0;
};
Timed timed_run(const std::vector<std::string>& args);

// Median wall and CPU seconds of `cp FILE` into `scratch_dir` over `repeat` copies, after one
// that only warms the page cache: the yardstick for commands that rewrite a whole model.
// `repeat` runs of `args`, `output` removed before each: median wall and CPU seconds, the
// largest peak RSS; throws naming `what` when a run fails.
Timed time_runs(const std::vector<std::string>& args, int repeat, const std::filesystem::path& output,
                const std::string& what);

Timed time_copy(const std::filesystem::path& file, const std::filesystem::path& scratch_dir, int repeat);

}  // namespace onnxq::bench
