/* The demo program: prints one line through the HTIF console and exits 0. */
#include <stdio.h>

int main(void)
{
    printf("hello from rivet\n");
    return 0;
}
