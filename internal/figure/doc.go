// Package figure draws mlcu's PNG figures with gonum/plot: a light curve beside the
// caustics that the source crosses, and a ray-shooting magnification map with its caustics.
//
// Every figure is written to an io.Writer; callers that write files go through
// internal/atomicfile so that no half-written image is left behind.
package figure
