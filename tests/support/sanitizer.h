// support/sanitizer.h — whether this test binary is a sanitizer build (ASan or TSan): such a
// build replaces glibc's malloc and runs several times slower, which tests that measure the
// allocator or race the kernel must allow for.
#pragma once

namespace oomkit::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif

}  // namespace oomkit::test
