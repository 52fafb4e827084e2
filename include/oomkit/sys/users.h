// oomkit/sys/users.h — user names for display, looked up once per uid.
//
// Uses getpwuid_r (NSS), so it may read /etc/passwd or ask a directory service; callers
// show the numeric uid when no name is known. Not thread-safe (caches per instance).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace oomkit::sys {

class UserNames {
 public:
  // The login name of `uid`, or the uid in decimal when it has none.
  const std::string& nameOf(uint32_t uid);

 private:
  std::unordered_map<uint32_t, std::string> cache_;
};

}  // namespace oomkit::sys
