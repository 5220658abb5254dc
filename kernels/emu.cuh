// emu.cuh: the CUDA emulation layer. With MLCU_CUDA_EMU defined, mlcu's .cu sources are
// compiled by the host C++ compiler (C++17) against this header instead of nvcc, so that
// machines without a GPU (CI, laptops) execute every kernel line for line:
//
//   - a launch runs its blocks one after another (first to last, or last to first with
//     MLCU_EMU_BLOCK_ORDER=reverse); a block's threads are real OS threads (from a pool kept
//     between launches; the launching thread plays thread 0);
//   - __syncthreads() is a barrier over the block's threads that have not returned (as on
//     Volta and later, threads that exit no longer count);
//   - __shared__ variables are static storage (in one linker section), so every thread of a
//     block sees the same array, poisoned (below) before each block; the emulated device
//     runs one operation (launch, copy, allocation) at a time, in the order the host issues
//     them (one mutex, as the default stream orders them), so no two blocks ever share it;
//   - dynamic shared memory (MLCU_DYNAMIC_SHARED) is one buffer per launch, poisoned before
//     each block too;
//   - warp shuffles and votes exchange values through a per-warp buffer between two
//     warp-wide barriers, so every lane of a warp that has not returned must take part (the
//     converged use that mlcu's kernels make of them); a member mask that names a lane that
//     has returned or does not exist, or leaves out the calling lane — undefined on a GPU —
//     fails the launch (cudaErrorLaunchFailure, the message on stderr);
//   - atomics are host atomics (__atomic builtins, compare-and-swap loops for floats);
//   - the runtime calls mlcu uses (cudaMalloc, cudaMemcpy, ...) act on host memory; fresh
//     allocations and static and dynamic shared memory are filled with 0xff bytes (NaN, −1),
//     not the zeros malloc tends to give, so reading memory nobody wrote shows in the results;
//   - arithmetic rounds like nvcc's: where the host has FMA instructions the library is built
//     with -mfma -ffp-contract=fast (CMake MLCU_EMU_FMA), as nvcc contracts a·b + c by
//     default, and the _rn intrinsics stay unfused; with MLCU_EMU_GPU_MATH (end of this file)
//     the math functions err by CUDA's documented maximum, not glibc's smaller error;
//   - a launch checks what a GPU checks: block and grid sizes, and dynamic shared memory
//     above 48 KiB only after the kernel opted in (cudaFuncSetAttribute).
//
// It emulates semantics, not speed: a launch of G blocks of T threads costs G·T thread
// switches per barrier. Tests use small sizes. Built with a sanitizer (make
// test-cudaemu-asan, test-cudaemu-tsan) it checks what compute-sanitizer checks on a GPU:
// out-of-bounds and use-after-free accesses to global, shared and local memory (ASan), and
// data races between a block's threads that no barrier, shuffle or atomic orders (TSan; the
// lanes of a warp are separate threads here, so code that assumes lock-step warps without
// __syncwarp is reported, as it is wrong on Volta and later).
#pragma once
#ifndef MLCU_CUDA_EMU
#error "emu.cuh is the emulation build's header; include common.cuh instead"
#endif

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
// Static __shared__ variables go to one linker section, mlcu_emu_shared, so that the emulation
// can poison all of them before every block (see shared_section below): on a GPU a block's
// static shared memory starts undefined (often the previous block's values), never zeroed.
// Not under AddressSanitizer: GCC does not instrument globals in a named section, and the
// overflow checks on shared arrays matter more there (the plain build checks the poison).
#if defined(__SANITIZE_ADDRESS__)
#define __shared__ static
#else
#define __shared__ static __attribute__((section("mlcu_emu_shared")))
#endif
#define __constant__ static
#define __align__(n) alignas(n)

struct uint3 {
	unsigned int x, y, z;
};
struct dim3 {
	unsigned int x, y, z;
	dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

struct alignas(16) float4 {
	float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace mlcu_emu {

// barrier is a reusable barrier whose participant count can drop (a thread that returns from
// the kernel body leaves it). on_release runs under the lock before the waiters go on.
class barrier {
public:
	void reset(int n) {
		std::lock_guard<std::mutex> lk(mu_);
		expected_ = n;
		arrived_ = 0;
	}
	void wait(const std::function<void()>& on_release = nullptr) {
		std::unique_lock<std::mutex> lk(mu_);
		unsigned long gen = gen_;
		if (++arrived_ >= expected_) {
			if (on_release) on_release();
			release_locked();
			return;
		}
		cv_.wait(lk, [&] { return gen_ != gen; });
	}
	// drop removes the calling thread from the barrier until the next reset.
	void drop() {
		std::lock_guard<std::mutex> lk(mu_);
		expected_--;
		if (arrived_ > 0 && arrived_ >= expected_) release_locked();
	}

private:
	void release_locked() {
		arrived_ = 0;
		gen_++;
		cv_.notify_all();
	}
	std::mutex mu_;
	std::condition_variable cv_;
	int expected_ = 0, arrived_ = 0;
	unsigned long gen_ = 0;
};

// block_state is the state the threads of the block being run share.
struct block_state {
	barrier sync;                      // __syncthreads
	std::vector<barrier> warp;         // one per warp: shuffles, votes, __syncwarp
	std::vector<uint64_t> exchange;    // (warps, 32) shuffle/vote buffer
	std::vector<unsigned char> dyn;    // dynamic shared memory
	int nthreads = 0;
	// exited[w] has bit l set once lane l of warp w has returned from the kernel (this block).
	std::unique_ptr<std::atomic<uint32_t>[]> exited;
	// fault is the launch's first misuse of a warp intrinsic (empty: none); see check_mask.
	std::mutex fault_mu;
	std::string fault;
};

inline thread_local block_state* tl_block = nullptr;

inline unsigned int linear_tid() {
	return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}

inline void* dyn_smem() { return tl_block->dyn.data(); }

// device_mutex serialises the emulated device's operations (launches, copies, allocations)
// and every C access to the host (Go) memory (copies, mlcu::set_host): __shared__ is static
// storage, and operations issued one after another from different host threads (a goroutine
// moves between OS threads, Go reuses memory) are ordered as the default stream orders them,
// which is also the order a race detector must see.
inline std::mutex& device_mutex() {
	static std::mutex m;
	return m;
}

// host_access marks a scope in which the emulation reads or writes the host's (Go's) memory:
// under ThreadSanitizer those accesses are not checked. Go allocates, frees and reuses its
// memory without synchronisation TSan can see (a new heap arena counts as written by the
// thread that mapped it), so a copy into a Go slice on one thread and anything earlier at
// that address on another look like a race that is not one. Nothing is lost: every such
// access holds device_mutex, so it cannot race with a kernel or another copy anyway.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
struct host_access {
	host_access() { __tsan_ignore_thread_begin(); }
	~host_access() { __tsan_ignore_thread_end(); }
};
#else
struct host_access {
	host_access() {} // user-provided: no unused-variable warning where it does nothing
};
#endif

// last_launch_error is the calling host thread's last launch error (cudaGetLastError is per
// host thread in CUDA's runtime too).
inline int& last_launch_error() {
	static thread_local int e = 0;
	return e;
}

inline int warp_size_of(int w, int nthreads) { return std::min(32, nthreads - 32 * w); }

// thread_pool keeps the OS threads that play a block's threads alive between launches
// (creating hundreds of threads per launch dominated the emulation's cost). Thread 0 of a
// launch is the launching thread; pool thread i plays thread i+1. The pool is never
// destroyed (its threads are detached and end with the process).
class thread_pool {
public:
	// run calls job(t) for t = 0..n−1, each on its own thread, and returns when all are done.
	void run(int n, const std::function<void(unsigned)>& job) {
		{
			std::lock_guard<std::mutex> lk(mu_);
			while (int(threads_) < n - 1) {
				unsigned idx = threads_++;
				std::thread([this, idx] { worker(idx + 1); }).detach();
			}
			job_ = &job;
			active_ = n;
			remaining_ = n - 1;
			gen_++;
		}
		start_.notify_all();
		job(0);
		std::unique_lock<std::mutex> lk(mu_);
		done_.wait(lk, [&] { return remaining_ == 0; });
		job_ = nullptr;
	}

private:
	void worker(unsigned t) {
		unsigned long seen = 0;
		{
			std::lock_guard<std::mutex> lk(mu_);
			seen = gen_;
			// A thread created for the current launch takes part in it.
			if (job_ && int(t) < active_) seen = gen_ - 1;
		}
		for (;;) {
			const std::function<void(unsigned)>* job;
			{
				std::unique_lock<std::mutex> lk(mu_);
				start_.wait(lk, [&] { return gen_ != seen; });
				seen = gen_;
				if (int(t) >= active_) continue;
				job = job_;
			}
			(*job)(t);
			std::lock_guard<std::mutex> lk(mu_);
			if (--remaining_ == 0) done_.notify_one();
		}
	}
	std::mutex mu_;
	std::condition_variable start_, done_;
	unsigned threads_ = 0;
	unsigned long gen_ = 0;
	int active_ = 0, remaining_ = 0;
	const std::function<void(unsigned)>* job_ = nullptr;
};

inline thread_pool& pool() {
	static thread_pool* p = new thread_pool;
	return *p;
}

// reverse_blocks reports whether launches run their blocks last to first
// (MLCU_EMU_BLOCK_ORDER=reverse). A GPU runs blocks in any order and at once; a kernel whose
// result depends on the order (a block that reads what another block of the same launch
// writes) gives different results in the two orders, which the parity tests catch.
inline bool reverse_blocks() {
	static const bool r = [] {
		const char* v = std::getenv("MLCU_EMU_BLOCK_ORDER");
		if (v == nullptr || *v == 0 || std::strcmp(v, "forward") == 0) return false;
		if (std::strcmp(v, "reverse") == 0) return true;
		// A misspelt order would silently test the default one.
		std::fprintf(stderr, "mlcu emulation: MLCU_EMU_BLOCK_ORDER=%s: want forward or reverse\n", v);
		std::abort();
	}();
	return r;
}

// kDefaultDynamicSmem is the dynamic shared memory a kernel may use without opting in: a
// launch with more fails on a GPU unless cudaFuncSetAttribute(kernel,
// cudaFuncAttributeMaxDynamicSharedMemorySize, n) raised that kernel's limit first.
constexpr size_t kDefaultDynamicSmem = 48 * 1024;

// smem_optin holds each kernel's raised dynamic shared memory limit (cudaFuncSetAttribute).
inline std::map<const void*, size_t>& smem_optin() {
	static std::map<const void*, size_t> m;
	return m;
}

// poison fills memory a GPU leaves undefined (fresh allocations, dynamic shared memory)
// with 0xff bytes: NaN as float or double, -1 as an integer, so a kernel that reads memory
// nobody wrote gives a wrong result here too instead of the zeros malloc tends to return.
inline void poison(void* p, size_t n) { std::memset(p, 0xff, n); }

// The linker (GNU ld, gold, lld) defines __start_/__stop_ for a section whose name is a C
// identifier; weak, so that a program without static shared memory still links.
extern "C" unsigned char __start_mlcu_emu_shared[] __attribute__((weak));
extern "C" unsigned char __stop_mlcu_emu_shared[] __attribute__((weak));

// shared_section returns the static shared memory of every kernel in the program (the
// section mlcu_emu_shared) as [begin, end); empty when there is none.
inline std::pair<unsigned char*, size_t> shared_section() {
	unsigned char* b = __start_mlcu_emu_shared;
	unsigned char* e = __stop_mlcu_emu_shared;
	if (b == nullptr || e == nullptr || e < b) return {nullptr, 0};
	return {b, size_t(e - b)};
}

// poison_static_shared fills every kernel's static shared memory with 0xff bytes. The
// device runs one block at a time, so no other kernel is using it.
inline void poison_static_shared() {
	auto s = shared_section();
	if (s.second) poison(s.first, s.second);
}

// launch runs body (the kernel call with its arguments) over grid × block, with the limits a
// GPU enforces (block size, grid size, shared memory and its opt-in); kernel identifies the
// kernel for the opt-in.
inline void launch(const void* kernel, dim3 grid, dim3 block, size_t smem, const std::function<void()>& body) {
	long nthreads = long(block.x) * block.y * block.z;
	long nblocks = long(grid.x) * grid.y * grid.z;
	if (nthreads < 1 || nthreads > 1024 || nblocks < 1 || block.z > 64 || grid.y > 65535 ||
	    grid.z > 65535 || smem > 227 * 1024) {
		last_launch_error() = 9; // cudaErrorInvalidConfiguration
		return;
	}
	std::lock_guard<std::mutex> lk(device_mutex());
	if (smem > kDefaultDynamicSmem) {
		auto it = smem_optin().find(kernel);
		if (it == smem_optin().end() || it->second < smem) {
			last_launch_error() = 1; // cudaErrorInvalidValue, as a GPU answers
			return;
		}
	}
	block_state st;
	st.nthreads = int(nthreads);
	int nwarps = int((nthreads + 31) / 32);
	st.warp = std::vector<barrier>(nwarps);
	st.exited.reset(new std::atomic<uint32_t>[nwarps]);
	st.exchange.assign(size_t(nwarps) * 32, 0);
	st.dyn.assign(std::max<size_t>(smem, 1), 0); // exact size: a sanitizer sees an overrun
	barrier block_end;
	// Before each block: fresh barriers, and static and dynamic shared memory as undefined as
	// a GPU leaves it (not the previous block's values).
	auto reset_block = [&] {
		poison(st.dyn.data(), st.dyn.size());
		poison_static_shared();
		st.sync.reset(int(nthreads));
		for (int w = 0; w < nwarps; w++) {
			st.warp[w].reset(warp_size_of(w, int(nthreads)));
			st.exited[w].store(0);
		}
	};
	reset_block();
	block_end.reset(int(nthreads));
	std::function<void(unsigned)> worker = [&](unsigned t) {
		block_state* saved = tl_block;
		tl_block = &st;
		blockDim = block;
		gridDim = grid;
		threadIdx = uint3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
		for (long i = 0; i < nblocks; i++) {
			long b = reverse_blocks() ? nblocks - 1 - i : i;
			blockIdx = uint3{unsigned(b % grid.x), unsigned((b / grid.x) % grid.y),
			                 unsigned(b / (long(grid.x) * grid.y))};
			body();
			st.exited[t / 32].fetch_or(1u << (t % 32));
			st.sync.drop();
			st.warp[t / 32].drop();
			block_end.wait(reset_block);
		}
		tl_block = saved;
	};
	pool().run(int(nthreads), worker);
	if (!st.fault.empty()) {
		std::fprintf(stderr, "mlcu emulation: %s\n", st.fault.c_str());
		last_launch_error() = 719; // cudaErrorLaunchFailure, what a GPU reports for a fault
	}
}

// check_mask records a fault unless mask names exactly lanes that take part in the warp
// intrinsic `what` called by this lane: the calling lane itself, and no lane that does not
// exist (past the block's last thread) or has returned — undefined behaviour on a GPU (it
// may hang or read garbage), which the emulation, whose exchange only waits for the lanes
// still running, would otherwise let pass. Called after the first warp barrier, when every
// lane of the warp has either arrived or returned.
inline void check_mask(unsigned mask, const char* what) {
	block_state* st = tl_block;
	unsigned int t = linear_tid();
	int w = int(t / 32), lane = int(t % 32);
	int n = warp_size_of(w, st->nthreads);
	uint32_t exist = n == 32 ? 0xffffffffu : ((1u << n) - 1);
	uint32_t bad = (mask & ~exist) | (mask & st->exited[w].load());
	if (bad == 0 && (mask >> lane & 1u)) return;
	char msg[256];
	if (bad)
		std::snprintf(msg, sizeof msg,
		              "%s with mask %08x in block (%u,%u,%u), warp %d, lane %d: it names lanes %08x, which have "
		              "returned or do not exist (undefined on a GPU)",
		              what, mask, blockIdx.x, blockIdx.y, blockIdx.z, w, lane, bad);
	else
		std::snprintf(msg, sizeof msg,
		              "%s with mask %08x in block (%u,%u,%u), warp %d, lane %d: the calling lane is not in it "
		              "(undefined on a GPU)",
		              what, mask, blockIdx.x, blockIdx.y, blockIdx.z, w, lane);
	std::lock_guard<std::mutex> lk(st->fault_mu);
	if (st->fault.empty()) st->fault = msg;
}

// warp_exchange publishes v for the calling lane and returns the value lane src published
// (v itself when src is outside the warp); mask and what are the intrinsic's member mask and
// name (check_mask).
inline uint64_t warp_exchange(uint64_t v, int src, unsigned mask, const char* what) {
	block_state* st = tl_block;
	unsigned int t = linear_tid();
	int w = int(t / 32), lane = int(t % 32);
	int n = warp_size_of(w, st->nthreads);
	uint64_t* buf = &st->exchange[size_t(w) * 32];
	buf[lane] = v;
	st->warp[w].wait();
	check_mask(mask, what);
	uint64_t r = (src >= 0 && src < n) ? buf[src] : v;
	st->warp[w].wait();
	return r;
}

template <typename T>
inline uint64_t to_bits(T v) {
	static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
	uint64_t b = 0;
	std::memcpy(&b, &v, sizeof(T));
	return b;
}
template <typename T>
inline T from_bits(uint64_t b) {
	T v;
	std::memcpy(&v, &b, sizeof(T));
	return v;
}

template <typename T, typename F>
inline T atomic_update(T* p, F f) {
	T old;
	__atomic_load(p, &old, __ATOMIC_RELAXED);
	for (;;) {
		T nv = f(old);
		if (__atomic_compare_exchange(p, &old, &nv, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) return old;
	}
}

} // namespace mlcu_emu

inline void __syncthreads() { mlcu_emu::tl_block->sync.wait(); }
inline void __syncwarp(unsigned member = 0xffffffffu) {
	mlcu_emu::block_state* st = mlcu_emu::tl_block;
	st->warp[mlcu_emu::linear_tid() / 32].wait();
	mlcu_emu::check_mask(member, "__syncwarp");
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

template <typename T>
inline T __shfl_sync(unsigned member, T v, int src, int width = 32) {
	int lane = int(mlcu_emu::linear_tid() % 32);
	int s = (lane & ~(width - 1)) + (src & (width - 1));
	return mlcu_emu::from_bits<T>(mlcu_emu::warp_exchange(mlcu_emu::to_bits(v), s, member, "__shfl_sync"));
}
template <typename T>
inline T __shfl_down_sync(unsigned member, T v, unsigned delta, int width = 32) {
	int lane = int(mlcu_emu::linear_tid() % 32);
	int s = lane + int(delta);
	if ((s & ~(width - 1)) != (lane & ~(width - 1))) s = lane;
	return mlcu_emu::from_bits<T>(mlcu_emu::warp_exchange(mlcu_emu::to_bits(v), s, member, "__shfl_down_sync"));
}
template <typename T>
inline T __shfl_up_sync(unsigned member, T v, unsigned delta, int width = 32) {
	int lane = int(mlcu_emu::linear_tid() % 32);
	int s = lane - int(delta);
	if (s < 0 || (s & ~(width - 1)) != (lane & ~(width - 1))) s = lane;
	return mlcu_emu::from_bits<T>(mlcu_emu::warp_exchange(mlcu_emu::to_bits(v), s, member, "__shfl_up_sync"));
}
template <typename T>
inline T __shfl_xor_sync(unsigned member, T v, int lane_mask, int width = 32) {
	int lane = int(mlcu_emu::linear_tid() % 32);
	int s = lane ^ lane_mask;
	if ((s & ~(width - 1)) != (lane & ~(width - 1))) s = lane;
	return mlcu_emu::from_bits<T>(mlcu_emu::warp_exchange(mlcu_emu::to_bits(v), s, member, "__shfl_xor_sync"));
}
inline unsigned __ballot_sync(unsigned member, int pred) {
	mlcu_emu::block_state* st = mlcu_emu::tl_block;
	unsigned int t = mlcu_emu::linear_tid();
	int w = int(t / 32), lane = int(t % 32);
	int n = mlcu_emu::warp_size_of(w, st->nthreads);
	uint64_t* buf = &st->exchange[size_t(w) * 32];
	buf[lane] = pred ? 1 : 0;
	st->warp[w].wait();
	mlcu_emu::check_mask(member, "__ballot_sync");
	unsigned r = 0;
	for (int i = 0; i < n; i++) r |= unsigned(buf[i] != 0) << i;
	st->warp[w].wait();
	return r;
}
inline int __any_sync(unsigned m, int pred) { return __ballot_sync(m, pred) != 0; }
inline int __all_sync(unsigned m, int pred) {
	int w = int(mlcu_emu::linear_tid() / 32);
	int n = mlcu_emu::warp_size_of(w, mlcu_emu::tl_block->nthreads);
	unsigned full = n == 32 ? 0xffffffffu : ((1u << n) - 1);
	return __ballot_sync(m, pred) == full;
}

inline float atomicAdd(float* p, float v) {
	return mlcu_emu::atomic_update(p, [v](float o) { return o + v; });
}
inline double atomicAdd(double* p, double v) {
	return mlcu_emu::atomic_update(p, [v](double o) { return o + v; });
}
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline int atomicMax(int* p, int v) {
	return mlcu_emu::atomic_update(p, [v](int o) { return o > v ? o : v; });
}
inline int atomicMin(int* p, int v) {
	return mlcu_emu::atomic_update(p, [v](int o) { return o < v ? o : v; });
}
inline int atomicCAS(int* p, int cmp, int v) {
	__atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return cmp;
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long cmp, unsigned long long v) {
	__atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return cmp;
}

template <typename T>
inline T __ldg(const T* p) { return *p; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline double cospi(double x) { return std::cos(3.141592653589793 * x); }
inline double sinpi(double x) { return std::sin(3.141592653589793 * x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __int_as_float(int x) { return mlcu_emu::from_bits<float>(uint32_t(x)); }
inline int __float_as_int(float x) { return int(uint32_t(mlcu_emu::to_bits(x))); }
inline double __longlong_as_double(long long x) { return mlcu_emu::from_bits<double>(uint64_t(x)); }
inline long long __double_as_longlong(double x) { return (long long)mlcu_emu::to_bits(x); }
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
	return (unsigned long long)((unsigned __int128)a * b >> 64);
}
// Round-to-nearest double arithmetic that nvcc never contracts into an FMA. The emulation
// may be built with contraction on (MLCU_EMU_FMA, as nvcc's default --fmad=true), so each
// result goes through an empty asm statement that the compiler cannot see through: it is
// rounded to double and never fused with its neighbours.
inline double opaque_rn(double x) {
	asm("" : "+m"(x));
	return x;
}
inline double __dadd_rn(double a, double b) { return opaque_rn(a + b); }
inline double __dsub_rn(double a, double b) { return opaque_rn(a - b); }
inline double __dmul_rn(double a, double b) { return opaque_rn(a * b); }
// CUDA's device min/max; mixed argument types do not compile here (say which type you mean).
using std::max;
using std::min;

// ---- the runtime subset mlcu uses, on host memory ----

typedef int cudaError_t;
enum {
	cudaSuccess = 0,
	cudaErrorInvalidValue = 1,
	cudaErrorMemoryAllocation = 2,
	cudaErrorInvalidConfiguration = 9,
	cudaErrorInvalidDevice = 101,
};
typedef void* cudaStream_t;
enum cudaMemcpyKind {
	cudaMemcpyHostToHost = 0,
	cudaMemcpyHostToDevice = 1,
	cudaMemcpyDeviceToHost = 2,
	cudaMemcpyDeviceToDevice = 3,
	cudaMemcpyDefault = 4,
};
struct cudaDeviceProp {
	char name[256];
	size_t totalGlobalMem;
	size_t sharedMemPerBlock;
	size_t sharedMemPerBlockOptin;
	int major, minor, multiProcessorCount, maxThreadsPerBlock, warpSize;
};
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };

inline cudaError_t cudaMalloc(void** p, size_t n) {
	std::lock_guard<std::mutex> lk(mlcu_emu::device_mutex());
	*p = std::malloc(n == 0 ? 1 : n);
	if (!*p) return cudaErrorMemoryAllocation;
	mlcu_emu::poison(*p, n);
	return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
	std::lock_guard<std::mutex> lk(mlcu_emu::device_mutex());
	std::free(p);
	return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind) {
	std::lock_guard<std::mutex> lk(mlcu_emu::device_mutex());
	mlcu_emu::host_access ha;
	if (n) std::memmove(dst, src, n);
	return cudaSuccess;
}
inline cudaError_t cudaMemset(void* p, int v, size_t n) {
	std::lock_guard<std::mutex> lk(mlcu_emu::device_mutex());
	std::memset(p, v, n);
	return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() {
	std::lock_guard<std::mutex> lk(mlcu_emu::device_mutex());
	return cudaSuccess;
}
inline cudaError_t cudaGetLastError() {
	int e = mlcu_emu::last_launch_error();
	mlcu_emu::last_launch_error() = 0;
	return e;
}
inline cudaError_t cudaPeekAtLastError() { return mlcu_emu::last_launch_error(); }
inline cudaError_t cudaGetDeviceCount(int* n) {
	*n = 1;
	return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
inline cudaError_t cudaGetDevice(int* d) {
	*d = 0;
	return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
	if (d != 0) return cudaErrorInvalidDevice;
	std::memset(p, 0, sizeof *p);
	std::strncpy(p->name, "mlcu CUDA emulation (host threads)", sizeof p->name - 1);
	p->totalGlobalMem = size_t(1) << 32;
	p->sharedMemPerBlock = 48 * 1024;
	p->sharedMemPerBlockOptin = 227 * 1024;
	p->major = 9;
	p->minor = 0;
	p->multiProcessorCount = 1;
	p->maxThreadsPerBlock = 1024;
	p->warpSize = 32;
	return cudaSuccess;
}
template <typename F>
inline cudaError_t cudaFuncSetAttribute(F* kernel, cudaFuncAttribute attr, int v) {
	if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || v < 0 || v > 227 * 1024) return cudaErrorInvalidValue;
	std::lock_guard<std::mutex> lk(mlcu_emu::device_mutex());
	mlcu_emu::smem_optin()[reinterpret_cast<const void*>(kernel)] = size_t(v);
	return cudaSuccess;
}
inline const char* cudaGetErrorString(cudaError_t e) {
	switch (e) {
	case cudaSuccess: return "no error";
	case cudaErrorInvalidValue: return "invalid argument";
	case cudaErrorMemoryAllocation: return "out of memory";
	case cudaErrorInvalidConfiguration: return "invalid configuration argument";
	case cudaErrorInvalidDevice: return "invalid device ordinal";
	case 719: return "unspecified launch failure";
	default: return "unknown error";
	}
}
inline cudaError_t cudaDriverGetVersion(int* v) {
	*v = 0;
	return cudaSuccess;
}
inline cudaError_t cudaRuntimeGetVersion(int* v) {
	*v = 0;
	return cudaSuccess;
}

// MLCU_LAUNCH(kernel, grid, block, smem, args...): the one way mlcu launches a kernel.
#define MLCU_LAUNCH(kernel, grid, block, smem, ...)                                          \
	::mlcu_emu::launch(reinterpret_cast<const void*>(&kernel), (grid), (block), (smem), \
	                   [&] { kernel(__VA_ARGS__); })
// MLCU_DYNAMIC_SHARED(T, name): T* name points at the launch's dynamic shared memory.
#define MLCU_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::mlcu_emu::dyn_smem())

// ---- math functions with a GPU's error (MLCU_EMU_GPU_MATH) ----
//
// CUDA's math library is not glibc's: its results may differ from the correctly rounded one
// by the maximum ulp errors of the CUDA C++ Programming Guide's Mathematical Functions
// appendix (expf, tanhf, logf 2 / 2 / 1; exp, log 1; pow, hypot, sin, cos 2; tanh and cospi
// taken as 2), where glibc is within about one ulp. With MLCU_EMU_GPU_MATH (CMake option, on
// by default) the kernels' calls of these functions return glibc's result moved by that many
// ulps, up or down as a hash of the argument says, so every parity tolerance is checked
// against the error a GPU may make, not against the host's better library. Exact results (0,
// ±1: exp(0), tanh(0), cos(0), log(1), a saturated tanh), infinities and NaN are left alone,
// and tanh, sin and cos stay within [−1, 1], as on a GPU.
#if defined(MLCU_EMU_GPU_MATH)
namespace mlcu_emu {

template <typename T>
inline T gpu_ulps(T r, uint64_t arg_bits, int ulps, bool bounded_by_one = false) {
	if (!std::isfinite(r) || r == 0 || r == 1 || r == -1) return r;
	uint64_t h = (arg_bits + 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	T toward = (h >> 63) ? T(INFINITY) : T(-INFINITY);
	for (int i = 0; i < ulps; i++) r = std::nextafter(r, toward);
	if (bounded_by_one) r = std::min(T(1), std::max(T(-1), r));
	return r;
}

inline float gpu_expf(float x) { return gpu_ulps(std::exp(x), to_bits(x), 2); }
inline float gpu_logf(float x) { return gpu_ulps(std::log(x), to_bits(x), 1); }
inline float gpu_tanhf(float x) { return gpu_ulps(std::tanh(x), to_bits(x), 2, true); }
inline double gpu_exp(double x) { return gpu_ulps(std::exp(x), to_bits(x), 1); }
inline float gpu_exp(float x) { return gpu_expf(x); }
inline double gpu_log(double x) { return gpu_ulps(std::log(x), to_bits(x), 1); }
inline float gpu_log(float x) { return gpu_logf(x); }
inline double gpu_tanh(double x) { return gpu_ulps(std::tanh(x), to_bits(x), 2, true); }
inline float gpu_tanh(float x) { return gpu_tanhf(x); }
inline double gpu_pow(double x, double y) { return gpu_ulps(std::pow(x, y), to_bits(x) ^ (to_bits(y) << 1), 2); }
inline double gpu_hypot(double x, double y) { return gpu_ulps(std::hypot(x, y), to_bits(x) ^ (to_bits(y) << 1), 2); }
inline double gpu_sin(double x) { return gpu_ulps(std::sin(x), to_bits(x), 2, true); }
inline double gpu_cos(double x) { return gpu_ulps(std::cos(x), to_bits(x), 2, true); }
inline double gpu_cospi(double x) { return gpu_ulps(::cospi(x), to_bits(x), 2, true); }

} // namespace mlcu_emu

// Every standard header the kernels include is already included above, so these names are
// replaced in kernel code only.
#define expf(x) ::mlcu_emu::gpu_expf(x)
#define logf(x) ::mlcu_emu::gpu_logf(x)
#define tanhf(x) ::mlcu_emu::gpu_tanhf(x)
#define exp(x) ::mlcu_emu::gpu_exp(x)
#define log(x) ::mlcu_emu::gpu_log(x)
#define tanh(x) ::mlcu_emu::gpu_tanh(x)
#define pow(x, y) ::mlcu_emu::gpu_pow(x, y)
#define hypot(x, y) ::mlcu_emu::gpu_hypot(x, y)
#define sin(x) ::mlcu_emu::gpu_sin(x)
#define cos(x) ::mlcu_emu::gpu_cos(x)
#define cospi(x) ::mlcu_emu::gpu_cospi(x)
#endif
