// The part of the WebAssembly JS API this project uses. TypeScript declares it
// only in its DOM and WebWorker libs, which would bring browser globals along.
// Internal: keep WebAssembly types out of the public API's signatures.
declare namespace WebAssembly {
  type ExportValue = ((...args: any[]) => any) | Memory | Global;
  type Exports = Record<string, ExportValue>;
  type Imports = Record<string, Record<string, unknown>>;
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(deltaPages: number): number;
  }
  class Global {
    value: unknown;
  }
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Exports;
  }
  function validate(bytes: BufferSource): boolean;
}
