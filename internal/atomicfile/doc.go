// Package atomicfile writes files so that readers never see a half-written one: the content
// goes to a temporary file in the destination's directory, which is renamed over the
// destination only after everything was written and closed without error. On error the
// temporary file is removed and the destination is left as it was.
package atomicfile
