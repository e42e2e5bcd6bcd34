/*
 * Linked into the ThreadSanitizer test build only.  Criterion's sandbox
 * (BoxFort) maps its shared arena at an address chosen with rand_r()
 * between 0x2000'0000'0000 and 0x6000'0000'0000, nearly all of which TSan
 * reserves, so the runner cannot start (Snaipe/Criterion#274).  This
 * rand_r, which takes precedence over the C library's, steers the choice
 * into 0x5500'0000'0000-0x5680'0000'0000, the range TSan leaves to
 * position-independent programs.  The tests themselves never call rand_r.
 */
#include <stdlib.h>

int rand_r(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (int)(0x350000u + (*seed >> 8) % 0x18000u);
}
