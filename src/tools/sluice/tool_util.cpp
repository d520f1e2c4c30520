#include "tools/sluice/tool_util.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "sluice/error.hpp"

namespace sluice::tool {

std::string one_line(std::string_view message) {
  std::string line;
  size_t pos = 0;
  while (pos < message.size()) {
    size_t end = std::min(message.find('\n', pos), message.size());
    std::string_view part = message.substr(pos, end - pos);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.remove_prefix(1);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.remove_suffix(1);
    if (!part.empty()) {
      if (!line.empty()) line += line.back() == ':' ? " " : "; ";
      line += part;
    }
    pos = end + 1;
  }
  return line;
}

void print_error(std::string_view message) { std::cerr << "sluice: error: " << one_line(message) << '\n'; }

std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& what) {
  size_t eq = text.find('=');
  SLUICE_CHECK(eq != std::string::npos && eq > 0, what, " '", text, "': expected KEY=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::string choose_device(const Core& core, const std::string& requested) {
  if (!requested.empty()) return requested;
  std::vector<std::string> devices = core.available_devices();
  if (std::find(devices.begin(), devices.end(), "CPU") != devices.end()) return "CPU";
  return "REF";
}

std::string sanitize_file_name(const std::string& name) {
  std::string file = name;
  for (char& c : file) {
    bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (!keep) c = '_';
  }
  if (file.find_first_not_of('.') == std::string::npos) file = "_" + file;
  return file;
}

}  // namespace sluice::tool
