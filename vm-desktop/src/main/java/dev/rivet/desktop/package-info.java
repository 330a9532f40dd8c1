/**
 * The LWJGL display window and desktop manager app. Not built yet.
 */
package dev.rivet.desktop;
