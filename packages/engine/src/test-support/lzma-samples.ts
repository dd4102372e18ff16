// LZMA fixtures for the MEW and Upack tests: one plaintext, and raw LZMA streams of it made with
// Python's lzma module (no LZMA encoder is written here), with the properties each packer uses.

/** The 1276 bytes the fixtures below hold. */
export function lzmaPlain(): Uint8Array {
  const parts: number[] = [];
  const te = new TextEncoder();
  for (let i = 0; i < 40; i++) parts.push(...te.encode(`MEW lzma block ${i % 7}; `));
  for (let i = 0; i < 256; i++) parts.push(i);
  for (let i = 0; i < 300; i++) parts.push((i * i) & 0xff);
  return Uint8Array.from(parts);
}

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

/** lzmaPlain() as raw LZMA with lc=4, lp=0, pb=2 (MEW's). */
export const LZMA_LC4_PB2 = hex(
  '00269147312cc4b954771bfcdfe3e425a7f7ac05c5ef00ff2953ee5917e326824cff830b812765884c55634c9931c1752dd81150364d279c5f91bca3d2208ec264ef4a7dcd37f3101a847bb89b49c6ad6ba3a3c8d921189a788769ff037aae5b86cbf3ed2c0642a28469349fc89b59c0a438bb6459c3224f9f0c7951bfe68d5c88d9ee515eb1a94506be8e1bea0ef3aa912c2473c09bea7a578d930eabc95e73fcbc2067739158b5b2afecdbd46dc5c79dd40ac2409a44eff97b29f6b171f6bcb8dff5ad32ff398353cd2d0e27fbbaf42c05607680f2812423e4debcd91b3c5792de5934f93c7c63e4bfe5dabc6dab29f13e74a2ab88947f1588feb34262a4f662e24524916916f57fe711e4aad8c034d8bdecb3f93cd4c7922de5f89d0f0a97c2fb25178fb7cf9b88d2be4cf6959bfd66d62778a9f774253496652782375a71e0312f514a8f5b768da6b22295ca690a25553236dc73217736f92c9abd12b506ec7dd58f9b3cfd342090bf7a3743d97118290021f3a756a51824c7ed3821b1f8a53e9ab26832e7c77925c4354a6d38c42e9b70a39fe58b15389f88c40549aa9063cfd7fffe72e800',
);

/** lzmaPlain() as raw LZMA with lc=3, lp=0, pb=0 (Upack's). */
export const LZMA_LC3_PB0 = hex(
  '002691d240b18516ebc52df6e6163d37f1b55159ec6e9cb97f264dbddada534ca2e0d5f7e4780944ba7194a26b51b26692a50f72fabe6c0d05116755c3a1a934d6cebe1b81b8464745617aac355990fa1ebb51db63da469702c7ac82ffe9658ff31bc7c737ee62ef8905a328d626452df840694b963846bf88b0669136e0ab14b84173837eb69485e6db619336f4b2086e40dd4d8131b2d6f1fa1e508a44b2cc0a7212a09e5c894de9c5d3fa731be433eb4b6bb35764b657dff595f527d020220cc2902ed37b44915f5e998d36d011bfb6dd6766c4e6cb981d544ddc33ff96af2c0ea3543c357e6b27baa8109f9666721789a3cff927bc1db4a8bf7966c04d2d57a50b03a377162671488d4beba32ba3769b6c8828a4c347731db4a75688f3d283c3facc3d7b61aac60e93f9829ab13d64dd521b1f467475ce54298553d779b524393dab640e83b51a2e93e7cd75eaa084e761ca9dc1f113e5f1453d35b59fa4e0f6aea323223beea2f18bbfaaabbc3c2e3d3df328fab0af52b3961cc1416318a346c7c27d24bf27556829e04042e9fb22817fffff65b00000',
);
