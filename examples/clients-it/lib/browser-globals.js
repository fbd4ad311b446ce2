// @microsoft/fetch-event-source is written for browsers: it calls window.setTimeout and
// document.add/removeEventListener('visibilitychange') even with openWhenHidden. In Node these
// two globals stand in; a page needs neither.
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };
