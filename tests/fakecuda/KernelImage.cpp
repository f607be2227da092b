// See KernelImage.h. The cubin facts used here were read from cubins of
// CUDA 13.0's nvcc/NVRTC with readelf (no cuobjdump on the CI machine):
// - e_ident[EI_ABIVERSION] 8 (OS ABI 0x41): the SM is bits 8..15 of e_flags
//   (0x6005004 = sm_80, 0x6005a04 = sm_90); older cubins (ABI version < 8)
//   keep it in bits 0..7.
// - section ".nv.info.<kernel>": records {u8 format, u8 attribute, u16 value
//   or size}; format 4 (SVAL) is followed by `size` bytes. Attribute 0x17
//   (KPARAM_INFO, 12 bytes): u32 index, u16 ordinal, u16 offset, u32 flags
//   whose bits 18..31 are the parameter's size. Attribute 0x05 (MAX_THREADS,
//   12 bytes): the launch bound x, y, z. Attribute 0x19 (CBANK_PARAM_SIZE,
//   a u16 value): the bytes of parameter space. Attribute 0x37
//   (CUDA_API_VERSION, a u32): the toolkit that built it (130 = CUDA 13.0).
// - section ".nv.shared.<kernel>": the kernel's static shared memory (size).
#include "KernelImage.h"

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <regex>
#include <string_view>

namespace tilefuse::fakecuda {
namespace {

constexpr unsigned char kFormatSval = 4;
constexpr unsigned char kAttrMaxThreads = 0x05;
constexpr unsigned char kAttrKparamInfo = 0x17;
constexpr unsigned char kAttrCbankParamSize = 0x19;
constexpr unsigned char kAttrCudaApiVersion = 0x37;

template <typename T>
T read(const unsigned char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

/// The ELF image's size is not passed to cuModuleLoadData; like the driver
/// we trust the header, after checking it is one of ours.
bool parse_cubin(const unsigned char* elf, KernelImage& out, std::string& error) {
  if (elf[EI_CLASS] != ELFCLASS64 || elf[EI_DATA] != ELFDATA2LSB) {
    error = "the cubin is not a 64-bit little-endian ELF";
    return false;
  }
  const auto header = read<Elf64_Ehdr>(elf);
  if (header.e_machine != EM_CUDA) {
    error = "the ELF image is not a CUDA cubin (e_machine " + std::to_string(header.e_machine) + ")";
    return false;
  }
  out.sm = elf[EI_ABIVERSION] >= 8 ? static_cast<int>((header.e_flags >> 8) & 0xff)
                                   : static_cast<int>(header.e_flags & 0xff);
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shstrndx >= header.e_shnum) {
    error = "the cubin's section table is malformed";
    return false;
  }
  auto section = [&](unsigned i) { return read<Elf64_Shdr>(elf + header.e_shoff + i * sizeof(Elf64_Shdr)); };
  const Elf64_Shdr names = section(header.e_shstrndx);
  auto name_of = [&](const Elf64_Shdr& s) {
    return std::string_view(reinterpret_cast<const char*>(elf + names.sh_offset + s.sh_name));
  };
  constexpr std::string_view kInfo = ".nv.info.", kShared = ".nv.shared.";
  std::map<std::string, int> shared;  // also for non-kernels (e.g. ".nv.shared.reserved.0")
  for (unsigned i = 0; i < header.e_shnum; ++i) {
    const Elf64_Shdr s = section(i);
    const std::string_view name = name_of(s);
    if (name.starts_with(kShared)) {
      shared[std::string(name.substr(kShared.size()))] = static_cast<int>(s.sh_size);
      continue;
    }
    if (!name.starts_with(kInfo)) continue;
    KernelInfo& kernel = out.kernels[std::string(name.substr(kInfo.size()))];
    const unsigned char* p = elf + s.sh_offset;
    const unsigned char* end = p + s.sh_size;
    while (p + 4 <= end) {
      const unsigned char format = p[0], attribute = p[1];
      const uint16_t value = read<uint16_t>(p + 2);
      const unsigned char* payload = p + 4;
      p += 4 + (format == kFormatSval ? value : 0);
      if (format != kFormatSval) {
        if (attribute == kAttrCbankParamSize) kernel.param_bytes = value;
        continue;
      }
      if (attribute == kAttrKparamInfo && value >= 12) {
        const unsigned ordinal = read<uint16_t>(payload + 4);
        const unsigned offset = read<uint16_t>(payload + 6);
        const unsigned size = read<uint32_t>(payload + 8) >> 18;
        if (kernel.params.size() <= ordinal) kernel.params.resize(ordinal + 1);
        kernel.params[ordinal] = {offset, size};
      } else if (attribute == kAttrCudaApiVersion && value >= 4) {
        out.cuda_api_version = std::max(out.cuda_api_version, static_cast<int>(read<uint32_t>(payload)));
      } else if (attribute == kAttrMaxThreads && value >= 12) {
        kernel.max_threads =
            static_cast<int>(read<uint32_t>(payload) * read<uint32_t>(payload + 4) * read<uint32_t>(payload + 8));
      }
    }
  }
  for (auto& [name, kernel] : out.kernels)
    if (auto it = shared.find(name); it != shared.end()) kernel.static_shared_bytes = it->second;
  return true;
}

/// .b8/.u16/.f32/.u64 ... → 1/2/4/8 bytes (the bit count after the letter).
unsigned ptx_type_bytes(std::string_view type) {
  std::size_t digits = type.find_first_of("0123456789");
  return digits == std::string_view::npos ? 0 : static_cast<unsigned>(std::stoi(std::string(type.substr(digits)))) / 8;
}

bool parse_ptx(const char* text, KernelImage& out, std::string& error) {
  const std::string ptx(text);
  std::smatch m;
  static const std::regex target(R"(\.target\s+sm_(\d+)(a?))");
  if (!std::regex_search(ptx, m, target)) {
    error = "the PTX has no .target sm_XX line";
    return false;
  }
  out.sm = std::stoi(m[1]);
  out.arch_specific = m[2].length() > 0;
  static const std::regex version(R"(\.version\s+(\d+)\.(\d+))");
  if (std::regex_search(ptx, m, version)) out.ptx_version = std::stoi(m[1]) * 10 + std::stoi(m[2]);
  // .entry name( params ) [directives] {
  static const std::regex entry(R"(\.entry\s+([A-Za-z_$][\w$]*)\s*\(([^)]*)\)([^{]*)\{)");
  static const std::regex param(R"(\.param\s+(?:\.align\s+(\d+)\s+)?\.(\w+)\s+[\w$]+(?:\[(\d+)\])?)");
  static const std::regex maxntid(R"(\.maxntid\s+(\d+)(?:\s*,\s*(\d+))?(?:\s*,\s*(\d+))?)");
  for (auto it = std::sregex_iterator(ptx.begin(), ptx.end(), entry); it != std::sregex_iterator(); ++it) {
    KernelInfo& kernel = out.kernels[(*it)[1]];
    const std::string params = (*it)[2], directives = (*it)[3];
    unsigned offset = 0;
    for (auto p = std::sregex_iterator(params.begin(), params.end(), param); p != std::sregex_iterator(); ++p) {
      const unsigned element = ptx_type_bytes((*p)[2].str());
      const unsigned count = (*p)[3].matched ? static_cast<unsigned>(std::stoul((*p)[3])) : 1;
      const unsigned align = (*p)[1].matched ? static_cast<unsigned>(std::stoul((*p)[1])) : element;
      offset = (offset + align - 1) / align * align;
      kernel.params.push_back({offset, element * count});
      offset += element * count;
    }
    kernel.param_bytes = offset;
    std::smatch bound;
    if (std::regex_search(directives, bound, maxntid)) {
      kernel.max_threads = std::stoi(bound[1]);
      for (int i : {2, 3})
        if (bound[i].matched) kernel.max_threads *= std::stoi(bound[i]);
    }
  }
  return true;
}

}  // namespace

bool parse_kernel_image(const void* image, KernelImage& out, std::string& error) {
  out = KernelImage{};
  if (!image) {
    error = "the image pointer is null";
    return false;
  }
  const auto* bytes = static_cast<const unsigned char*>(image);
  if (std::memcmp(bytes, ELFMAG, SELFMAG) == 0) return parse_cubin(bytes, out, error);
  const char* text = static_cast<const char*>(image);
  if (std::strstr(text, ".version") && std::strstr(text, ".target")) {
    out.is_ptx = true;
    return parse_ptx(text, out, error);
  }
  error = "the image is neither an ELF cubin nor PTX text (no ELF magic, no .version/.target)";
  return false;
}

bool image_runs_on(const KernelImage& image, int major, int minor) {
  const int device = major * 10 + minor;
  if (image.is_ptx) return image.arch_specific ? image.sm == device : image.sm <= device;
  return image.sm / 10 == major && image.sm % 10 <= minor;
}

}  // namespace tilefuse::fakecuda
