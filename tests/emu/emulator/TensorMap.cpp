// See TensorMap.h.
#include "emulator/TensorMap.h"

#include <cstring>
#include <fmt/format.h>

#include "fakecuda/TensorMapLimits.h"

namespace emu {
namespace {

constexpr std::uint64_t kMagic = 0x50414d554d454654ull;  // "TFEMUMAP"

thread_local std::string t_last_error;

CUresult reject(std::string why) {
  t_last_error = std::move(why);
  return CUDA_ERROR_INVALID_VALUE;
}

/// Layout of the emulated map in its 16 64-bit words.
struct Packed {
  std::uint64_t magic;
  std::uint64_t address;
  std::uint64_t dims[5];
  std::uint64_t strides[4];
  std::uint16_t box[5];
  std::uint8_t element_strides[5];
  std::uint8_t type, rank, interleave, swizzle, l2, oob;
};
static_assert(sizeof(Packed) <= sizeof(CUtensorMap), "the emulated map must fit the 128 opaque bytes");

}  // namespace

unsigned TensorMapArguments::element_bytes() const {
  switch (type) {
    case CU_TENSOR_MAP_DATA_TYPE_UINT8: return 1;
    case CU_TENSOR_MAP_DATA_TYPE_UINT16:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT16:
    case CU_TENSOR_MAP_DATA_TYPE_BFLOAT16: return 2;
    case CU_TENSOR_MAP_DATA_TYPE_UINT32:
    case CU_TENSOR_MAP_DATA_TYPE_INT32:
    case CU_TENSOR_MAP_DATA_TYPE_FLOAT32: return 4;
    default: return 0;
  }
}

std::size_t TensorMapArguments::box_bytes() const {
  std::size_t n = element_bytes();
  for (unsigned i = 0; i < rank; ++i) n *= box_elements(i);
  return n;
}

const std::string& last_encode_error() { return t_last_error; }

CUresult fake_encode_tiled(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank, void* address,
                           const cuuint64_t* dims, const cuuint64_t* strides, const cuuint32_t* box,
                           const cuuint32_t* element_strides, CUtensorMapInterleave interleave,
                           CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob) {
  t_last_error.clear();
  // The driver's documented limits, in the one function the fake driver
  // (tests/fakecuda) applies too; then what this emulator does not model.
  const tilefuse::fakecuda::TensorMapArgs args{map, static_cast<int>(type), rank, address, dims, strides, box,
                                               element_strides, static_cast<int>(interleave),
                                               static_cast<int>(swizzle), static_cast<int>(l2),
                                               static_cast<int>(oob)};
  if (std::string why = tilefuse::fakecuda::tensor_map_violation(args); !why.empty()) return reject(std::move(why));
  TensorMapArguments a;
  a.type = type;
  if (a.element_bytes() == 0) return reject(fmt::format("data type {} is not modelled", static_cast<int>(type)));
  if (interleave != CU_TENSOR_MAP_INTERLEAVE_NONE) return reject("interleaved layouts are not modelled");
  Packed p{};
  p.magic = kMagic;
  p.address = reinterpret_cast<std::uint64_t>(address);
  for (unsigned i = 0; i < 5; ++i) {
    p.dims[i] = i < rank ? dims[i] : 1;
    p.box[i] = static_cast<std::uint16_t>(i < rank ? box[i] : 1);
    p.element_strides[i] = static_cast<std::uint8_t>(i < rank ? element_strides[i] : 1);
  }
  for (unsigned i = 0; i + 1 < rank; ++i) p.strides[i] = strides[i];
  p.type = static_cast<std::uint8_t>(type);
  p.rank = static_cast<std::uint8_t>(rank);
  p.interleave = static_cast<std::uint8_t>(interleave);
  p.swizzle = static_cast<std::uint8_t>(swizzle);
  p.l2 = static_cast<std::uint8_t>(l2);
  p.oob = static_cast<std::uint8_t>(oob);
  std::memset(map, 0, sizeof *map);
  std::memcpy(map, &p, sizeof p);
  return CUDA_SUCCESS;
}

bool decode_tensor_map(const void* opaque, TensorMapArguments& out) {
  Packed p;
  std::memcpy(&p, opaque, sizeof p);
  if (p.magic != kMagic) return false;
  out.type = static_cast<CUtensorMapDataType>(p.type);
  out.rank = p.rank;
  out.address = reinterpret_cast<const void*>(p.address);
  for (unsigned i = 0; i < 5; ++i) {
    out.dims[i] = p.dims[i];
    out.box[i] = p.box[i];
    out.element_strides[i] = p.element_strides[i];
  }
  for (unsigned i = 0; i < 4; ++i) out.strides[i] = p.strides[i];
  out.interleave = static_cast<CUtensorMapInterleave>(p.interleave);
  out.swizzle = static_cast<CUtensorMapSwizzle>(p.swizzle);
  out.l2 = static_cast<CUtensorMapL2promotion>(p.l2);
  out.oob = static_cast<CUtensorMapFloatOOBfill>(p.oob);
  return true;
}

unsigned swizzle_address(unsigned address, CUtensorMapSwizzle swizzle) {
  // Swizzle<B, 4, 3>: bits [7, 7 + B) XORed into bits [4, 4 + B).
  const unsigned bits = swizzle == CU_TENSOR_MAP_SWIZZLE_128B  ? 3
                        : swizzle == CU_TENSOR_MAP_SWIZZLE_64B ? 2
                        : swizzle == CU_TENSOR_MAP_SWIZZLE_32B ? 1
                                                               : 0;
  const unsigned mask = (1u << bits) - 1;
  return address ^ (((address >> 7) & mask) << 4);
}

TensorBox read_tensor_box(const TensorMapArguments& map, unsigned dst, const int (&coords)[5],
                          bool (*readable)(const void*, std::size_t)) {
  TensorBox box;
  const unsigned element = map.element_bytes();
  box.bytes = map.box_bytes();
  const std::size_t align = map.swizzle == CU_TENSOR_MAP_SWIZZLE_NONE ? 16 : 128;
  if (dst % align != 0) {
    box.problem = fmt::format("cp.async.bulk.tensor destination {} is not {}-byte aligned", dst, align);
    return box;
  }
  unsigned n[5];
  for (unsigned i = 0; i < 5; ++i) n[i] = i < map.rank ? map.box_elements(i) : 1;
  const std::size_t chunk_count = box.bytes / 16;
  box.chunk_offsets.resize(chunk_count);
  box.chunks.resize(chunk_count);
  std::vector<std::uint8_t> linear(box.bytes);
  const std::uint16_t nan16 = map.type == CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 ? 0x7fc0 : 0x7e00;
  std::size_t at = 0;
  for (unsigned j4 = 0; j4 < n[4]; ++j4)
    for (unsigned j3 = 0; j3 < n[3]; ++j3)
      for (unsigned j2 = 0; j2 < n[2]; ++j2)
        for (unsigned j1 = 0; j1 < n[1]; ++j1)
          for (unsigned j0 = 0; j0 < n[0]; ++j0, at += element) {
            const unsigned j[5] = {j0, j1, j2, j3, j4};
            bool inside = true;
            long long byte_offset = 0;
            for (unsigned i = 0; i < map.rank; ++i) {
              const long long x = static_cast<long long>(coords[i]) + static_cast<long long>(j[i]) * map.element_strides[i];
              inside = inside && x >= 0 && x < static_cast<long long>(map.dims[i]);
              byte_offset += x * static_cast<long long>(i == 0 ? element : map.strides[i - 1]);
            }
            std::uint8_t* out = linear.data() + at;
            if (!inside) {
              if (map.oob == CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA && element == 2) std::memcpy(out, &nan16, 2);
              else std::memset(out, 0, element);
              continue;
            }
            const auto* src = static_cast<const std::uint8_t*>(map.address) + byte_offset;
            if (!readable(src, element)) {
              if (box.problem.empty())
                box.problem = fmt::format("cp.async.bulk.tensor reads element ({}, {}, {}, {}, {}) of the tensor at {}, "
                                          "outside every buffer of the launch (the map's dims or strides exceed the "
                                          "allocation)",
                                          coords[0] + j0, coords[1] + j1, coords[2] + j2, coords[3] + j3, coords[4] + j4,
                                          map.address);
              std::memset(out, 0, element);
              continue;
            }
            std::memcpy(out, src, element);
            const auto address = reinterpret_cast<std::uintptr_t>(src);
            if (!box.global_reads.empty() && box.global_reads.back().address + box.global_reads.back().bytes == address)
              box.global_reads.back().bytes += element;
            else
              box.global_reads.push_back({address, element});
          }
  for (std::size_t c = 0; c < chunk_count; ++c) {
    box.chunk_offsets[c] = swizzle_address(dst + static_cast<unsigned>(c * 16), map.swizzle);
    std::memcpy(box.chunks[c].data(), linear.data() + c * 16, 16);
  }
  return box;
}

}  // namespace emu
