/*
 * A fake libnvidia-ml.so for Steward's tests: implements the NVML C ABI functions that
 * nvml-wrapper 0.13 calls for the telemetry collector, with struct layouts from nvml.h.
 *
 * GPU count: FAKE_NVML_GPU_COUNT (read at nvmlInit, default 2). Values are deterministic per
 * index i so tests can assert exact numbers (and catch unit mistakes such as mW vs W):
 *   name "Fake NVIDIA GPU i", uuid "GPU-fake0000-0000-0000-0000-00000000000i" (i < 10)
 *   utilization gpu 10+20i %, memory 5+10i %; memory total 24 GiB, used (1+i) GiB
 *   power 100500+50000i mW, enforced limit 300000 mW, energy 123456789+1000000i mJ
 *   temperature 40+5i C, clocks graphics 1400+100i, SM 1500+100i, memory 9501, video 1200 MHz
 *   throttle reasons: GPU 0 gpu_idle (0x1); others sw_power_cap|hw_thermal_slowdown (0x44)
 *   GPU 0 processes: compute pid 1000 (512 MiB); graphics pid 1000 (512 MiB) and pid 2000
 *   (memory not available); process utilization pid 1000 sm 42 %. Other GPUs: NOT_SUPPORTED.
 *
 * MIG: off unless FAKE_NVML_MIG_GPU=g (read at nvmlInit; compile-time default
 * -DFAKE_NVML_MIG_GPU_DEFAULT=g): then GPU g is in MIG mode with MIG devices in slots 0, 1 and 3
 * of 7 (slot 2 empty): "Fake NVIDIA GPU g MIG 1g.6gb" (5952 MiB) twice, then "... MIG 2g.12gb"
 * (11968 MiB), uuid "MIG-fake000g-0000-0000-0000-00000000000k"; other GPUs report MIG mode
 * disabled. Without a MIG GPU, every GPU answers NOT_SUPPORTED for MIG mode (no MIG).
 *
 * Static facts: PCI bus id "00000000:%02X:00.0" with bus 0x10+i, compute capability 9.0, max
 * clocks SM 1980 / memory 2619 MHz, power limit range 200-700 W (default 700 W).
 * Topology: GPUs 2k and 2k+1 share one PCIe switch (NVML_TOPOLOGY_SINGLE), GPUs in the same
 * group of four a host bridge, others meet at the system level. NVLink: links 0 and 1 of GPU i
 * end at GPU i^1, link 2 at GPU i^2 (when that GPU exists), links 3-17 are inactive; with
 * FAKE_NVML_NO_NVLINK=1 (read at nvmlInit) every NVLink query answers NOT_SUPPORTED (PCIe only).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#ifndef FAKE_NVML_MIG_GPU_DEFAULT
#define FAKE_NVML_MIG_GPU_DEFAULT -1
#endif
#define MIG_BASE 0x1000u
#define MIG_SLOTS 7u
#define NVML_VALUE_NOT_AVAILABLE_ULL 0xFFFFFFFFFFFFFFFFULL

typedef struct { unsigned int gpu; unsigned int memory; } nvmlUtilization_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;
typedef struct {
    unsigned int pid;
    unsigned long long timeStamp;
    unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

static int initialized = 0;
static unsigned int gpu_count = 2;
static int mig_gpu = FAKE_NVML_MIG_GPU_DEFAULT;
static int no_nvlink = 0;

/* MIG devices: handle MIG_BASE + gpu * 16 + slot; profile, memory (MiB) per occupied slot. */
static const char *mig_profile[MIG_SLOTS] = {"1g.6gb", "1g.6gb", NULL, "2g.12gb", NULL, NULL, NULL};
static const unsigned long long mig_mib[MIG_SLOTS] = {5952, 5952, 0, 11968, 0, 0, 0};

static int mig_of(nvmlDevice_t d, unsigned int *gpu, unsigned int *slot) {
    uintptr_t v = (uintptr_t)d;
    if (!initialized || mig_gpu < 0 || v < MIG_BASE) return 0;
    v -= MIG_BASE;
    *gpu = (unsigned int)(v / 16);
    *slot = (unsigned int)(v % 16);
    return *gpu == (unsigned int)mig_gpu && *slot < MIG_SLOTS && mig_profile[*slot] != NULL;
}

static int idx(nvmlDevice_t d, unsigned int *out) {
    uintptr_t v = (uintptr_t)d;
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    if (v == 0 || v > gpu_count) return NVML_ERROR_INVALID_ARGUMENT;
    *out = (unsigned int)(v - 1);
    return NVML_SUCCESS;
}
#define IDX(d) unsigned int i; { int r_ = idx((d), &i); if (r_) return r_; }

nvmlReturn_t nvmlInit_v2(void) {
    const char *c = getenv("FAKE_NVML_GPU_COUNT");
    gpu_count = c ? (unsigned int)strtoul(c, NULL, 10) : 2;
    const char *m = getenv("FAKE_NVML_MIG_GPU");
    mig_gpu = m ? (int)strtol(m, NULL, 10) : FAKE_NVML_MIG_GPU_DEFAULT;
    const char *n = getenv("FAKE_NVML_NO_NVLINK");
    no_nvlink = n != NULL && strcmp(n, "1") == 0;
    initialized = 1;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }
nvmlReturn_t nvmlInitWithFlags(unsigned int flags) { (void)flags; return nvmlInit_v2(); }
nvmlReturn_t nvmlShutdown(void) { initialized = 0; return NVML_SUCCESS; }
const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    default: return "Unknown Error";
    }
}
nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned int len) { snprintf(v, len, "999.99.99"); return NVML_SUCCESS; }

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    *count = gpu_count;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) { return nvmlDeviceGetCount_v2(count); }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (!initialized) return NVML_ERROR_UNINITIALIZED;
    if (index >= gpu_count) return NVML_ERROR_INVALID_ARGUMENT;
    *device = (nvmlDevice_t)(uintptr_t)(index + 1);
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device) {
    return nvmlDeviceGetHandleByIndex_v2(index, device);
}
nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t d, unsigned int *index) { IDX(d); *index = i; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int len) {
    unsigned int g, k;
    if (mig_of(d, &g, &k)) { snprintf(name, len, "Fake NVIDIA GPU %u MIG %s", g, mig_profile[k]); return NVML_SUCCESS; }
    IDX(d); snprintf(name, len, "Fake NVIDIA GPU %u", i); return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int len) {
    unsigned int g, k;
    if (mig_of(d, &g, &k)) { snprintf(uuid, len, "MIG-fake%04u-0000-0000-0000-%012u", g, k); return NVML_SUCCESS; }
    IDX(d); snprintf(uuid, len, "GPU-fake0000-0000-0000-0000-%012u", i); return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
    IDX(d); u->gpu = 10 + i * 20; u->memory = 5 + i * 10; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
    unsigned int g, k;
    if (mig_of(d, &g, &k)) { m->total = mig_mib[k] << 20; m->used = 0; m->free = m->total; return NVML_SUCCESS; }
    IDX(d); m->total = 24ULL << 30; m->used = (1ULL + i) << 30; m->free = m->total - m->used; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m) {
    unsigned int g, k;
    if ((m->version >> 24) != 2 || (m->version & 0xFFFFFF) != sizeof(nvmlMemory_v2_t)) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig_of(d, &g, &k)) {
        m->total = mig_mib[k] << 20; m->reserved = 0; m->used = 0; m->free = m->total;
        return NVML_SUCCESS;
    }
    IDX(d);
    m->total = 24ULL << 30; m->reserved = 256ULL << 20; m->used = (1ULL + i) << 30;
    m->free = m->total - m->reserved - m->used;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) { IDX(d); *mw = 100500 + i * 50000; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw) { IDX(d); *mw = 300000; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int *mw) { IDX(d); *mw = 300000; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
    IDX(d); *mj = 123456789ULL + i * 1000000ULL; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t) {
    IDX(d); if (sensor != 0) return NVML_ERROR_INVALID_ARGUMENT; *t = 40 + i * 5; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
    IDX(d);
    switch (type) {
    case 0: *mhz = 1400 + i * 100; break; /* NVML_CLOCK_GRAPHICS */
    case 1: *mhz = 1500 + i * 100; break; /* NVML_CLOCK_SM */
    case 2: *mhz = 9501; break;           /* NVML_CLOCK_MEM */
    case 3: *mhz = 1200; break;           /* NVML_CLOCK_VIDEO */
    default: return NVML_ERROR_INVALID_ARGUMENT;
    }
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long *r) {
    IDX(d); *r = i == 0 ? 0x1ULL : (0x4ULL | 0x40ULL); return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t d, unsigned long long *r) {
    return nvmlDeviceGetCurrentClocksThrottleReasons(d, r);
}

static nvmlReturn_t fill_procs(const nvmlProcessInfo_t *src, unsigned int n, unsigned int *count, nvmlProcessInfo_t *out) {
    if (out == NULL || *count < n) {
        *count = n;
        return n == 0 ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_SIZE;
    }
    memcpy(out, src, n * sizeof *src);
    *count = n;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *p) {
    static const nvmlProcessInfo_t procs[] = {{1000, 512ULL << 20, 0xFFFFFFFF, 0xFFFFFFFF}};
    IDX(d); if (i != 0) return NVML_ERROR_NOT_SUPPORTED;
    return fill_procs(procs, 1, count, p);
}
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *p) {
    static const nvmlProcessInfo_t procs[] = {
        {1000, 512ULL << 20, 0xFFFFFFFF, 0xFFFFFFFF},
        {2000, NVML_VALUE_NOT_AVAILABLE_ULL, 0xFFFFFFFF, 0xFFFFFFFF},
    };
    IDX(d); if (i != 0) return NVML_ERROR_NOT_SUPPORTED;
    return fill_procs(procs, 2, count, p);
}
nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *p) {
    IDX(d); return fill_procs(NULL, 0, count, p);
}
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t d, nvmlProcessUtilizationSample_t *s, unsigned int *count,
                                             unsigned long long lastSeen) {
    IDX(d); if (i != 0) return NVML_ERROR_NOT_SUPPORTED;
    if (lastSeen >= 1000000ULL) { *count = 0; return NVML_SUCCESS; }
    if (s == NULL || *count < 1) { *count = 1; return NVML_ERROR_INSUFFICIENT_SIZE; }
    s[0].pid = 1000; s[0].timeStamp = 1000000ULL; s[0].smUtil = 42; s[0].memUtil = 7; s[0].encUtil = 0; s[0].decUtil = 0;
    *count = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
    IDX(d);
    if (mig_gpu < 0) return NVML_ERROR_NOT_SUPPORTED;
    *current = *pending = (int)i == mig_gpu ? 1 : 0;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count) {
    IDX(d);
    if (mig_gpu < 0) return NVML_ERROR_NOT_SUPPORTED;
    *count = MIG_SLOTS;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index, nvmlDevice_t *mig) {
    IDX(d);
    if ((int)i != mig_gpu || index >= MIG_SLOTS) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig_profile[index] == NULL) return NVML_ERROR_NOT_FOUND;
    *mig = (nvmlDevice_t)(uintptr_t)(MIG_BASE + i * 16 + index);
    return NVML_SUCCESS;
}

/* Static facts and topology (nvml.h layouts). */
typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;
#define NVML_NVLINK_MAX_LINKS 18u

static void fill_pci(unsigned int i, nvmlPciInfo_t *p) {
    memset(p, 0, sizeof *p);
    p->domain = 0; p->bus = 0x10 + i; p->device = 0; p->pciDeviceId = 0x233010DEu; p->pciSubSystemId = 0x16C110DEu;
    snprintf(p->busId, sizeof p->busId, "00000000:%02X:00.0", p->bus);
    snprintf(p->busIdLegacy, sizeof p->busIdLegacy, "0000:%02X:00.0", p->bus);
}
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *p) { IDX(d); fill_pci(i, p); return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t d, nvmlPciInfo_t *p) { return nvmlDeviceGetPciInfo_v3(d, p); }
nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor) {
    IDX(d); (void)i; *major = 9; *minor = 0; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
    IDX(d); (void)i;
    switch (type) {
    case 0: *mhz = 1980; break; /* graphics */
    case 1: *mhz = 1980; break; /* SM */
    case 2: *mhz = 2619; break; /* memory */
    case 3: *mhz = 1755; break; /* video */
    default: return NVML_ERROR_INVALID_ARGUMENT;
    }
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t d, unsigned int *min, unsigned int *max) {
    IDX(d); (void)i; *min = 200000; *max = 700000; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t d, unsigned int *mw) {
    IDX(d); (void)i; *mw = 700000; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t d1, nvmlDevice_t d2, int *level) {
    unsigned int a, b;
    int r = idx(d1, &a);
    if (r) return r;
    r = idx(d2, &b);
    if (r) return r;
    if (a / 2 == b / 2) *level = 10;      /* NVML_TOPOLOGY_SINGLE */
    else if (a / 4 == b / 4) *level = 30; /* NVML_TOPOLOGY_HOSTBRIDGE */
    else *level = 50;                     /* NVML_TOPOLOGY_SYSTEM */
    return NVML_SUCCESS;
}
/* The GPU at the other end of `link`, or -1 when the link is inactive. */
static int nvlink_peer(unsigned int i, unsigned int link) {
    unsigned int peer;
    if (link <= 1) peer = i ^ 1u;
    else if (link == 2) peer = i ^ 2u;
    else return -1;
    return peer < gpu_count ? (int)peer : -1;
}
nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t d, unsigned int link, int *active) {
    IDX(d);
    if (no_nvlink) return NVML_ERROR_NOT_SUPPORTED;
    if (link >= NVML_NVLINK_MAX_LINKS) return NVML_ERROR_INVALID_ARGUMENT;
    *active = nvlink_peer(i, link) >= 0 ? 1 : 0;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t d, unsigned int link, nvmlPciInfo_t *p) {
    IDX(d);
    if (no_nvlink) return NVML_ERROR_NOT_SUPPORTED;
    if (link >= NVML_NVLINK_MAX_LINKS) return NVML_ERROR_INVALID_ARGUMENT;
    int peer = nvlink_peer(i, link);
    if (peer < 0) return NVML_ERROR_NOT_FOUND;
    fill_pci((unsigned int)peer, p);
    return NVML_SUCCESS;
}
