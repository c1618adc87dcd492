#include "bench/anchor.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace mlpd::bench {

std::vector<std::string> AnchorOutput(const std::string& script,
                                      const std::vector<std::string>& arguments) {
  std::string command = absl::StrCat("/usr/bin/python3 '", script, "'");
  for (const std::string& argument : arguments) absl::StrAppend(&command, " '", argument, "'");
  std::vector<std::string> lines;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return lines;
  char line[1024];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) lines.emplace_back(line);
  if (pclose(pipe) != 0) lines.clear();
  return lines;
}

double NumberAfter(const std::vector<std::string>& lines, const std::string& key) {
  for (const std::string& line : lines) {
    const size_t at = line.find(key);
    if (at != std::string::npos) return std::strtod(line.c_str() + at + key.size(), nullptr);
  }
  return 0.0;
}

}  // namespace mlpd::bench
