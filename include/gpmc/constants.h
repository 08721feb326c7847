/* Mathematical constants for the library (M_PI is XSI, not C11). */
#ifndef GPMC_CONSTANTS_H
#define GPMC_CONSTANTS_H

#define GPMC_PI 3.14159265358979323846

#endif
