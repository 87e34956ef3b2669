//! The benchmark's WGSL kernels. The matrix multiply is the classic shared-memory tiled one,
//! written once with its element type as a parameter so f32 and f16 run the same code.

/// Side of a matrix tile; matrix sides are multiples of it.
pub const TILE: u32 = 16;
/// Invocations per workgroup of the bandwidth kernel.
pub const STREAM_GROUP: u32 = 256;

const MATMUL: &str = r#"
struct Dims { n: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<storage, read> a: array<ELEM>;
@group(0) @binding(1) var<storage, read> b: array<ELEM>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;
var<workgroup> ta: array<array<ELEM, 16>, 16>;
var<workgroup> tb: array<array<ELEM, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let n = dims.n;
    var acc: ELEM = ELEM(0);
    for (var t: u32 = 0u; t < n; t = t + 16u) {
        ta[lid.y][lid.x] = a[gid.y * n + t + lid.x];
        tb[lid.y][lid.x] = b[(t + lid.y) * n + gid.x];
        workgroupBarrier();
        for (var k: u32 = 0u; k < 16u; k = k + 1u) {
            acc = acc + ta[lid.y][k] * tb[k][lid.x];
        }
        workgroupBarrier();
    }
    c[gid.y * n + gid.x] = f32(acc);
}
"#;

/// The matrix multiply `c = a · b` of `n × n` matrices in f32 or (with `f16`) half precision,
/// accumulating in the same precision and storing f32.
pub fn matmul(f16: bool) -> String {
    let body = MATMUL.replace("ELEM", if f16 { "f16" } else { "f32" });
    if f16 { format!("enable f16;\n{body}") } else { body }
}

/// `dst = 2·src + 1` over vec4s: every byte read once and written once. Two-dimensional
/// dispatch, as one dimension holds at most 65,535 workgroups.
pub const STREAM: &str = r#"
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i < arrayLength(&src)) {
        dst[i] = src[i] * 2.0 + vec4<f32>(1.0);
    }
}
"#;

/// One invocation adds one: a dispatch whose cost is all overhead, counted so the probe can
/// check that every dispatch ran.
pub const LATENCY: &str = r#"
@group(0) @binding(0) var<storage, read_write> count: array<u32>;

@compute @workgroup_size(1)
fn main() {
    count[0] = count[0] + 1u;
}
"#;
