// Marks one symbol-version requirement (for example GLIBCXX_3.4.32) of a 64-bit little-endian ELF
// shared library as weak (VER_FLG_WEAK in .gnu.version_r), so the dynamic loader accepts a
// libstdc++ that does not define that version. Usage: mark_version_weak FILE VERSION
// Exits 0 when the requirement is now weak (or already was), 1 when it is absent, 2 on error.
#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s FILE VERSION\n", argv[0]);
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<char> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (image.size() < sizeof(Elf64_Ehdr) || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0 ||
        image[EI_CLASS] != ELFCLASS64 || image[EI_DATA] != ELFDATA2LSB) {
        std::fprintf(stderr, "%s is not a 64-bit little-endian ELF file\n", argv[1]);
        return 2;
    }
    auto* header = reinterpret_cast<Elf64_Ehdr*>(image.data());
    auto* sections = reinterpret_cast<Elf64_Shdr*>(image.data() + header->e_shoff);
    bool found = false;
    for (int i = 0; i < header->e_shnum; ++i) {
        if (sections[i].sh_type != SHT_GNU_verneed) continue;
        const char* strings = image.data() + sections[sections[i].sh_link].sh_offset;
        size_t needOffset = sections[i].sh_offset;
        for (Elf64_Word n = 0; n < sections[i].sh_info; ++n) {
            auto* need = reinterpret_cast<Elf64_Verneed*>(image.data() + needOffset);
            size_t auxOffset = needOffset + need->vn_aux;
            for (Elf64_Half a = 0; a < need->vn_cnt; ++a) {
                auto* aux = reinterpret_cast<Elf64_Vernaux*>(image.data() + auxOffset);
                if (std::strcmp(strings + aux->vna_name, argv[2]) == 0) {
                    aux->vna_flags |= VER_FLG_WEAK;
                    found = true;
                }
                auxOffset += aux->vna_next;
            }
            needOffset += need->vn_next;
        }
    }
    if (!found) return 1;
    std::string temporary = std::string(argv[1]) + ".tmp";
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
    out.close();
    if (!out || std::rename(temporary.c_str(), argv[1]) != 0) {
        std::fprintf(stderr, "failed to write %s\n", argv[1]);
        return 2;
    }
    return 0;
}
