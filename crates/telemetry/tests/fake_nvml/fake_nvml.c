/*
 * A fake libnvidia-ml.so for Steward's tests: implements the NVML C ABI functions that
 * nvml-wrapper 0.13 calls for the telemetry collector, with struct layouts from nvml.h.
 *
 * GPU count: FAKE_NVML_GPU_COUNT (read at nvmlInit, default 2). Values are deterministic per
 * index i so tests can assert exact numbers (and catch unit mistakes such as mW vs W):
 *   name "Fake NVIDIA GPU i", uuid "GPU-fake0000-0000-0000-0000-00000000000i" (i < 10)
 *   utilization gpu 10+20i %, memory 5+10i %; memory total 24 GiB, used (1+i) GiB
 *   power 100500+50000i mW, enforced limit 300000 mW, energy 123456789+1000000i mJ plus the
 *   power integrated since the library was loaded (so joules advance like a real counter)
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
 * Power model (the functions under "power model" below; docs/energy.md, "The fake GPU's power
 * model"): every GPU has a settable power limit (default and max 300 W, min 100 W) and locked
 * clocks. FAKE_NVML_POWER_MODEL (read once per process, at the first nvmlInit) is a file path or
 * inline text, lines (or ';'-separated entries) "GPU LIMIT_W THROUGHPUT POWER_W", GPU a number or
 * '*': the curve of a workload. With a curve for a GPU, its min/max/default limits are the
 * curve's lowest/highest limits, power is the curve's at the enforced limit, the SM and graphics
 * clocks scale with the curve's throughput (relative to the highest limit's; a locked clock caps
 * them), and the energy counter integrates power over time. FAKE_NVML_NO_PERMISSION=1 makes every
 * setter answer NVML_ERROR_NO_PERMISSION. Compile-time defaults for both:
 * -DFAKE_NVML_POWER_MODEL_DEFAULT='"..."', -DFAKE_NVML_NO_PERMISSION_DEFAULT=1. FAKE_NVML_STATE=FILE keeps limits and locked clocks in a
 * file, as the driver keeps them past the process that set them.
 * Static facts: PCI bus id "00000000:%02X:00.0" with bus 0x10+i, compute capability 9.0, max
 * clocks SM 1980 / memory 2619 MHz; power limits as the power model below says.
 * Topology: GPUs 2k and 2k+1 share one PCIe switch (NVML_TOPOLOGY_SINGLE), GPUs in the same
 * group of four a host bridge, others meet at the system level. NVLink: links 0 and 1 of GPU i
 * end at GPU i^1, link 2 at GPU i^2 (when that GPU exists), links 3-17 are inactive; with
 * FAKE_NVML_NO_NVLINK=1 (read at nvmlInit) every NVLink query answers NOT_SUPPORTED (PCIe only).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
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

static int initialized = 0; /* nvmlInit calls not yet matched by nvmlShutdown, as NVML counts them */
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

static void power_model_load(void);
nvmlReturn_t nvmlInit_v2(void) {
    const char *c = getenv("FAKE_NVML_GPU_COUNT");
    gpu_count = c ? (unsigned int)strtoul(c, NULL, 10) : 2;
    const char *m = getenv("FAKE_NVML_MIG_GPU");
    mig_gpu = m ? (int)strtol(m, NULL, 10) : FAKE_NVML_MIG_GPU_DEFAULT;
    const char *n = getenv("FAKE_NVML_NO_NVLINK");
    no_nvlink = n != NULL && strcmp(n, "1") == 0;
    initialized++;
    power_model_load();
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }
nvmlReturn_t nvmlInitWithFlags(unsigned int flags) { (void)flags; return nvmlInit_v2(); }
nvmlReturn_t nvmlShutdown(void) { if (initialized > 0) initialized--; return NVML_SUCCESS; }
const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
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
static int power_model_power(unsigned int i, unsigned int *mw);
static unsigned int power_model_limit(unsigned int i);
static int power_model_energy(unsigned int i, unsigned long long *mj);
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
    IDX(d); if (!power_model_power(i, mw)) *mw = 100500 + i * 50000; return NVML_SUCCESS;
}
/* Without a power model, the energy counter integrates the power above since the library was
 * loaded, as the driver's does. */
static struct timespec loaded_at;
__attribute__((constructor)) static void note_load_time(void) { clock_gettime(CLOCK_MONOTONIC, &loaded_at); }
static unsigned long long ms_since_load(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (unsigned long long)((now.tv_sec - loaded_at.tv_sec) * 1000LL + (now.tv_nsec - loaded_at.tv_nsec) / 1000000LL);
}
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw) { IDX(d); *mw = power_model_limit(i); return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int *mw) { IDX(d); *mw = power_model_limit(i); return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
    IDX(d);
    if (!power_model_energy(i, mj)) *mj = 123456789ULL + i * 1000000ULL + (100500ULL + i * 50000ULL) * ms_since_load() / 1000ULL;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t) {
    IDX(d); if (sensor != 0) return NVML_ERROR_INVALID_ARGUMENT; *t = 40 + i * 5; return NVML_SUCCESS;
}
static unsigned int power_model_clock(unsigned int i, unsigned int full_mhz);
nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
    IDX(d);
    switch (type) {
    case 0: *mhz = power_model_clock(i, 1400 + i * 100); break; /* NVML_CLOCK_GRAPHICS */
    case 1: *mhz = power_model_clock(i, 1500 + i * 100); break; /* NVML_CLOCK_SM */
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

/* ---------------------------------------------------------------------------------------------
 * Power model: settable limits and locked clocks, and a per-GPU curve of power limit ->
 * (throughput, power) that the power, clock and energy readings follow. See the header comment.
 * ------------------------------------------------------------------------------------------- */
#ifndef FAKE_NVML_POWER_MODEL_DEFAULT
#define FAKE_NVML_POWER_MODEL_DEFAULT ""
#endif
#ifndef FAKE_NVML_NO_PERMISSION_DEFAULT
#define FAKE_NVML_NO_PERMISSION_DEFAULT 0
#endif
#define PM_GPUS 16
#define PM_POINTS 32
#define PM_DEFAULT_MIN_MW 100000u
#define PM_DEFAULT_MAX_MW 300000u

typedef struct { double limit_w, throughput, power_w; } pm_point_t;
typedef struct {
    pm_point_t pts[PM_POINTS];
    unsigned int n;
    unsigned int limit_mw;
    unsigned int lock_min_mhz, lock_max_mhz; /* 0: unlocked */
    double energy_mj;
    double last_s;
} pm_gpu_t;

static pthread_mutex_t pm_lock = PTHREAD_MUTEX_INITIALIZER;
static pm_gpu_t pm[PM_GPUS];
static int pm_loaded = 0;

static double pm_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned int pm_min_mw(const pm_gpu_t *g) { return g->n ? (unsigned int)(g->pts[0].limit_w * 1000.0) : PM_DEFAULT_MIN_MW; }
static unsigned int pm_max_mw(const pm_gpu_t *g) { return g->n ? (unsigned int)(g->pts[g->n - 1].limit_w * 1000.0) : PM_DEFAULT_MAX_MW; }

/* The curve at the enforced limit, linear between points. */
static pm_point_t pm_at(const pm_gpu_t *g) {
    double l = g->limit_mw / 1000.0;
    if (l <= g->pts[0].limit_w) return g->pts[0];
    for (unsigned int k = 1; k < g->n; k++) {
        if (l <= g->pts[k].limit_w) {
            const pm_point_t *a = &g->pts[k - 1], *b = &g->pts[k];
            double t = (l - a->limit_w) / (b->limit_w - a->limit_w);
            pm_point_t p = {l, a->throughput + t * (b->throughput - a->throughput), a->power_w + t * (b->power_w - a->power_w)};
            return p;
        }
    }
    return g->pts[g->n - 1];
}

/* Adds the energy drawn since the last call at the power in effect meanwhile. */
static void pm_integrate(pm_gpu_t *g) {
    double now = pm_now_s();
    if (g->n && g->last_s > 0) g->energy_mj += pm_at(g).power_w * 1000.0 * (now - g->last_s);
    g->last_s = now;
}

static void pm_add_point(const char *line) {
    char who[16];
    double l, t, p;
    if (sscanf(line, " %15s %lf %lf %lf", who, &l, &t, &p) != 4 || who[0] == '#') return;
    for (unsigned int i = 0; i < PM_GPUS; i++) {
        if (strcmp(who, "*") != 0 && strtoul(who, NULL, 10) != i) continue;
        pm_gpu_t *g = &pm[i];
        if (g->n >= PM_POINTS) continue;
        unsigned int k = g->n++;
        while (k > 0 && g->pts[k - 1].limit_w > l) { g->pts[k] = g->pts[k - 1]; k--; }
        pm_point_t pt = {l, t, p};
        g->pts[k] = pt;
    }
}

/* FAKE_NVML_POWER_MODEL: a readable file's lines, else the value itself split at ';'. */
static void pm_read_curves(const char *spec) {
    char buf[8192];
    size_t len = 0;
    FILE *f = fopen(spec, "r");
    if (f) { len = fread(buf, 1, sizeof buf - 1, f); fclose(f); }
    else { len = strlen(spec) < sizeof buf - 1 ? strlen(spec) : sizeof buf - 1; memcpy(buf, spec, len); }
    buf[len] = 0;
    for (char *save = NULL, *line = strtok_r(buf, ";\n", &save); line; line = strtok_r(NULL, ";\n", &save)) pm_add_point(line);
}

static void pm_state_load(void) {
    const char *path = getenv("FAKE_NVML_STATE");
    FILE *f = path ? fopen(path, "r") : NULL;
    unsigned int i, mw, lo, hi;
    if (!f) return;
    while (fscanf(f, "%u %u %u %u", &i, &mw, &lo, &hi) == 4)
        if (i < PM_GPUS) { pm[i].limit_mw = mw; pm[i].lock_min_mhz = lo; pm[i].lock_max_mhz = hi; }
    fclose(f);
}

static void pm_state_save(void) {
    const char *path = getenv("FAKE_NVML_STATE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) return;
    for (unsigned int i = 0; i < PM_GPUS; i++) fprintf(f, "%u %u %u %u\n", i, pm[i].limit_mw, pm[i].lock_min_mhz, pm[i].lock_max_mhz);
    fclose(f);
}

static void power_model_load(void) {
    pthread_mutex_lock(&pm_lock);
    if (!pm_loaded) {
        const char *spec = getenv("FAKE_NVML_POWER_MODEL");
        if (!spec) spec = FAKE_NVML_POWER_MODEL_DEFAULT;
        if (*spec) pm_read_curves(spec);
        for (unsigned int i = 0; i < PM_GPUS; i++) pm[i].limit_mw = pm_max_mw(&pm[i]);
        pm_state_load();
        pm_loaded = 1;
    }
    pthread_mutex_unlock(&pm_lock);
}

static unsigned int power_model_limit(unsigned int i) {
    pthread_mutex_lock(&pm_lock);
    unsigned int mw = i < PM_GPUS ? pm[i].limit_mw : PM_DEFAULT_MAX_MW;
    pthread_mutex_unlock(&pm_lock);
    return mw;
}

static int power_model_power(unsigned int i, unsigned int *mw) {
    int ok = 0;
    pthread_mutex_lock(&pm_lock);
    if (i < PM_GPUS && pm[i].n) { *mw = (unsigned int)(pm_at(&pm[i]).power_w * 1000.0); ok = 1; }
    pthread_mutex_unlock(&pm_lock);
    return ok;
}

static int power_model_energy(unsigned int i, unsigned long long *mj) {
    int ok = 0;
    pthread_mutex_lock(&pm_lock);
    if (i < PM_GPUS && pm[i].n) {
        pm_integrate(&pm[i]);
        *mj = 123456789ULL + i * 1000000ULL + (unsigned long long)pm[i].energy_mj;
        ok = 1;
    }
    pthread_mutex_unlock(&pm_lock);
    return ok;
}

static unsigned int power_model_clock(unsigned int i, unsigned int full_mhz) {
    unsigned int mhz = full_mhz;
    pthread_mutex_lock(&pm_lock);
    if (i < PM_GPUS) {
        const pm_gpu_t *g = &pm[i];
        if (g->n) mhz = (unsigned int)(full_mhz * pm_at(g).throughput / g->pts[g->n - 1].throughput + 0.5);
        if (g->lock_max_mhz && mhz > g->lock_max_mhz) mhz = g->lock_max_mhz;
    }
    pthread_mutex_unlock(&pm_lock);
    return mhz;
}

static int pm_denied(void) {
    const char *v = getenv("FAKE_NVML_NO_PERMISSION");
    return v ? strcmp(v, "1") == 0 : FAKE_NVML_NO_PERMISSION_DEFAULT;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t d, unsigned int *min_mw, unsigned int *max_mw) {
    IDX(d);
    if (i >= PM_GPUS) return NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_lock(&pm_lock);
    *min_mw = pm_min_mw(&pm[i]);
    *max_mw = pm_max_mw(&pm[i]);
    pthread_mutex_unlock(&pm_lock);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t d, unsigned int *mw) {
    IDX(d);
    if (i >= PM_GPUS) return NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_lock(&pm_lock);
    *mw = pm_max_mw(&pm[i]);
    pthread_mutex_unlock(&pm_lock);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t d, unsigned int mw) {
    IDX(d);
    if (i >= PM_GPUS) return NVML_ERROR_NOT_SUPPORTED;
    if (pm_denied()) return NVML_ERROR_NO_PERMISSION;
    nvmlReturn_t r = NVML_SUCCESS;
    pthread_mutex_lock(&pm_lock);
    if (mw < pm_min_mw(&pm[i]) || mw > pm_max_mw(&pm[i])) r = NVML_ERROR_INVALID_ARGUMENT;
    else { pm_integrate(&pm[i]); pm[i].limit_mw = mw; pm_state_save(); }
    pthread_mutex_unlock(&pm_lock);
    return r;
}

nvmlReturn_t nvmlDeviceSetGpuLockedClocks(nvmlDevice_t d, unsigned int min_mhz, unsigned int max_mhz) {
    IDX(d);
    if (i >= PM_GPUS) return NVML_ERROR_NOT_SUPPORTED;
    if (pm_denied()) return NVML_ERROR_NO_PERMISSION;
    if (min_mhz > max_mhz) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&pm_lock);
    pm[i].lock_min_mhz = min_mhz;
    pm[i].lock_max_mhz = max_mhz;
    pm_state_save();
    pthread_mutex_unlock(&pm_lock);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t d) {
    IDX(d);
    if (i >= PM_GPUS) return NVML_ERROR_NOT_SUPPORTED;
    if (pm_denied()) return NVML_ERROR_NO_PERMISSION;
    pthread_mutex_lock(&pm_lock);
    pm[i].lock_min_mhz = pm[i].lock_max_mhz = 0;
    pm_state_save();
    pthread_mutex_unlock(&pm_lock);
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
