// The matcher's public surface: compile patterns into tables, scan data in one pass, and evaluate
// what logical signatures add on top of matches (expressions, PCRE, byte compare).
export { compileMatcher, type MatcherMeta, type MatcherPattern, type MatcherTables } from './compile.js';
export { compilePcre, evaluateByteCompare, evaluateLogical, runPcre } from './logic.js';
export { Matcher, type MatchSet } from './matcher.js';
