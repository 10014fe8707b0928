// .proto files are imported as text so `bun build --compile` embeds them in the binary.
declare module '*.proto' {
  const text: string;
  export default text;
}
