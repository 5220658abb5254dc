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
