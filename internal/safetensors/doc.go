// Package safetensors reads and writes the safetensors format of Hugging Face
// (https://github.com/huggingface/safetensors), in which mlcu stores model weights so that
// they load with the Python package (safetensors.numpy.load_file, safetensors.torch).
//
// A file is an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON,
// then the byte buffer. The header maps each tensor name to
//
//	{"dtype":"F32","shape":[2,3],"data_offsets":[begin,end]}
//
// with offsets relative to the start of the buffer, and may hold "__metadata__", a map of
// strings to strings. Tensor data is little-endian and C-ordered; tensors lie back to back
// without gaps or overlaps and together fill the buffer exactly.
//
// Write produces the same bytes as the reference implementation (safetensors 0.8,
// serialize/save_file): compact JSON, "__metadata__" first, tensors ordered by dtype
// (largest alignment first, in the reference's dtype order) and then by name, the header
// padded with spaces to a multiple of 8 bytes. Unlike the reference, which emits metadata
// keys in hash order, Write sorts metadata keys, so its output is deterministic; with at most
// one metadata key the files are byte-identical (testdata/gen_fixture.py checks this).
//
// Read and Parse validate strictly, as the reference does and somewhat more: header length
// within bounds, UTF-8 JSON object with no duplicate keys or unknown fields, known dtypes,
// non-empty names, non-negative integer shapes and offsets, shape × dtype size equal to the
// byte length, tensors contiguous from offset 0 to the end of the file. Errors name the
// tensor at fault.
package safetensors

// Why this package is hand-written rather than a thin adapter over
// github.com/nlpodyssey/safetensors (evaluated at v0.0.0-20250209183917-bfb01cc25f7c; each
// point was checked by running the library):
//
//   - Write/Encode: the library builds the header with encoding/json from a map, so tensors
//     come out in name order, not the reference's data order (dtype rank, then name).
//     Its files for testdata/fixture.safetensors are not byte-identical (TestMatchesReference).
//     Go's JSON encoder also escapes '<', '>' and '&', which serde_json does not. The library
//     does not check names, UTF-8, or shape against data length before writing.
//   - dtypes: the library has no C64, F8_E5M2, F8_E4M3 or F8_E8M0, which the reference writes
//     and this package reads and writes (TestReadAllDTypes).
//   - Read/Parse: the library accepts duplicate tensor names (the last one wins), invalid
//     UTF-8 (replaced by U+FFFD), an empty name and "__metadata__": null. These are all
//     rejected here (TestReadRejects). Its errors often do not name the tensor or say what
//     is wrong ("header too small", "metadata validation error: info data offsets
//     mismatch"), so matching this package's messages would mean repeating every check it
//     makes before calling it.
