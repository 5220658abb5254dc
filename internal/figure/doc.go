// Package figure draws mlcu's figures with gonum/plot: a light curve beside the caustics
// that the source crosses, a ray-shooting magnification map with its caustics, and the
// corner plot of posterior samples (PNG, or SVG for Corner).
//
// Every figure is written to an io.Writer; callers that write files go through
// internal/atomicfile (as Corner.WriteFile does) so that no half-written image is left
// behind.
package figure
