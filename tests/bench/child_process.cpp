#include "bench/child_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace onnxq::bench {

ChildResult run(const std::vector<std::string>& args, const std::filesystem::path& out,
                const std::filesystem::path& err, const std::map<std::string, std::string>& env) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  ChildResult r;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run " + args[0] + ": " + std::strerror(rc));
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0)
    if (errno != EINTR) throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.max_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
  return r;
}

namespace {

double children_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

}  // namespace

Timed timed_run(const std::vector<std::string>& args) {
  const double before = children_cpu_seconds();
  const ChildResult r = run(args);
  return {r.seconds, children_cpu_seconds() - before, r.max_rss_bytes, r.exit_code};
}

Timed time_runs(const std::vector<std::string>& args, int repeat, const std::filesystem::path& output,
                const std::string& what) {
  std::vector<double> wall, cpu;
  uint64_t rss = 0;
  for (int i = 0; i < repeat; ++i) {
    std::filesystem::remove(output);
    const Timed t = timed_run(args);
    if (t.exit_code != 0) throw std::runtime_error(what + ": exited with " + std::to_string(t.exit_code));
    wall.push_back(t.wall);
    cpu.push_back(t.cpu);
    rss = std::max(rss, t.max_rss_bytes);
  }
  return {median(wall), median(cpu), rss, 0};
}

Timed time_copy(const std::filesystem::path& file, const std::filesystem::path& scratch_dir, int repeat) {
  const auto copy = scratch_dir / "copy-for-timing";
  std::vector<double> wall, cpu;
  for (int i = 0; i <= repeat; ++i) {
    std::filesystem::remove(copy);
    const Timed t = timed_run({"cp", file.string(), copy.string()});
    if (i > 0) wall.push_back(t.wall), cpu.push_back(t.cpu);
  }
  std::filesystem::remove(copy);
  return {median(wall), median(cpu), 0, 0};
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace onnxq::bench
