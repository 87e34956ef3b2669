fn main() {
    println!("cargo:rerun-if-changed=proto/agent.proto");
    println!("cargo:rerun-if-changed=proto/module.proto");
    tonic_prost_build::configure()
        .compile_protos(&["proto/agent.proto", "proto/module.proto"], &["proto"])
        .expect("compiling proto/*.proto (is protoc installed?)");
}
