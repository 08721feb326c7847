/* Every experiment gpmc knows. Adding one = its source file + one line here. */
#include "gpmc/experiment.h"

#include <stddef.h>

extern const gpmc_experiment gpmc_exp_wdc;
extern const gpmc_experiment gpmc_exp_r2wdc;
extern const gpmc_experiment gpmc_exp_rric;
extern const gpmc_experiment gpmc_exp_jwdc;
extern const gpmc_experiment gpmc_exp_cwdc;
extern const gpmc_experiment gpmc_exp_ddjac;
extern const gpmc_experiment gpmc_exp_cs;
extern const gpmc_experiment gpmc_exp_landscape;
extern const gpmc_experiment gpmc_exp_synthetic;

const gpmc_experiment *const gpmc_experiments[] = {
    &gpmc_exp_wdc,
    &gpmc_exp_r2wdc,
    &gpmc_exp_rric,
    &gpmc_exp_jwdc,
    &gpmc_exp_cwdc,
    &gpmc_exp_ddjac,
    &gpmc_exp_cs,
    &gpmc_exp_landscape,
    &gpmc_exp_synthetic,
    NULL,
};
