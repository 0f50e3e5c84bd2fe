// Defines std::ios_base_library_init(), the hook that GCC 13's libstdc++ (symbol version
// GLIBCXX_3.4.32) uses to initialise the standard streams. TorchSharp's native library is built
// with GCC 13 and imports only this one symbol from that version; older libstdc++ builds
// (GCC 12, as on Debian 12) lack it. Constructing a static std::ios_base::Init does the same work.
#include <ios>

namespace std {
void ios_base_library_init() {
    static ios_base::Init init;
}
}  // namespace std
