//go:build race

package main

// raceDetector is true in a -race build, where each password hash takes
// seconds instead of milliseconds.
const raceDetector = true
