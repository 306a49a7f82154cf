// Where the JavaScript allocator may start handing out blocks: everything below
// __heap_base is the module's static data.
export function heapBase(): usize {
  return __heap_base;
}
