#include "oomkit/sys/users.h"

#include <pwd.h>

#include <vector>

namespace oomkit::sys {

const std::string& UserNames::nameOf(uint32_t uid) {
  auto it = cache_.find(uid);
  if (it != cache_.end()) return it->second;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(4096);
  std::string name = std::to_string(uid);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    name = found->pw_name;
  }
  return cache_.emplace(uid, std::move(name)).first->second;
}

}  // namespace oomkit::sys
