// --pre-js of the node programs: emscripten 3.1.6 loads the .wasm with fetch() whenever a global
// fetch exists, which node 18+ has but cannot use on a file path ("Failed to parse URL"). This
// module-scope declaration hides it, so the .wasm is read with fs as on older node versions.
var fetch;
