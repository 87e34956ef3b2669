// Wire types of the accelerator view: generated from the Rust types by ts-rs (../bindings/).
export type { AcceleratorList } from '../bindings/AcceleratorList';
export type { AcceleratorsResponse } from '../bindings/AcceleratorsResponse';
export type { AcceleratorSpec } from '../bindings/AcceleratorSpec';
export type { AcceleratorKind } from '../bindings/AcceleratorKind';
export type { Characterization } from '../bindings/Characterization';
export type { GpuLink } from '../bindings/GpuLink';
export type { Kernel } from '../bindings/Kernel';
export type { NodeAccelerators } from '../bindings/NodeAccelerators';
export type { SpecPrecision } from '../bindings/SpecPrecision';
export type { RegisteredAccelerator } from '../bindings/RegisteredAccelerator';
