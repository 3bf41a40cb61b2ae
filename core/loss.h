/* loss.h — TD and distillation losses with their gradients.
 *
 * Every loss returns its value (a mean over the rows it covers) and ADDS
 * scale * d(loss)/d(q) to dq (B, A), so a mixed objective is several calls on one
 * zeroed dq. Rows are transitions, columns actions. */
#ifndef KDQN_LOSS_H
#define KDQN_LOSS_H
#include <stdint.h>

typedef enum { LOSS_TD_HUBER = 0, LOSS_TD_MSE = 1 } loss_td_kind_t;
typedef enum { LOSS_KD_KL = 0, LOSS_KD_MSE = 1, LOSS_KD_NLL = 2 } loss_kd_kind_t;

/* Double DQN target: y[i] = reward[i] + discount[i] * q_target_next[i][a*],
 * a* = argmax_a q_online_next[i][a] (online net picks, target net evaluates).
 * discount[i] is gamma^n for a transition that bootstraps (including truncation)
 * and 0 for one that terminated. */
void loss_double_dqn_target(const float *q_online_next, const float *q_target_next,
                            const float *reward, const float *discount, int B, int A, float *y);

/* TD loss on q[i][action[i]] against y[i]: Huber (delta = 1, as SB3/CleanRL's
 * smooth_l1) or 0.5 * squared error. weight (B) are importance-sampling weights
 * (NULL = all 1). The value is mean_i weight[i] * l(q - y). td_error (B), optional,
 * receives q - y for priority updates. */
float loss_td(loss_td_kind_t kind, const float *q, const int32_t *action, const float *y,
              const float *weight, int B, int A, float scale, float *dq, float *td_error);

/* Distillation loss of student q_s against teacher q_t (both (B, A), raw Q-values),
 * over the rows with has_teacher[i] != 0 (NULL = all rows); the mean is over those
 * rows, and with none the loss is 0 and dq is untouched.
 *   KL : T^2 * KL( softmax(q_t/T) || softmax(q_s/T) )          (Hinton et al. 2015)
 *   MSE: mean over actions of (q_s - q_t)^2                      (Rusu et al. 2016)
 *   NLL: -log softmax(q_s)[argmax q_t]                            (Rusu et al. 2016)
 * T > 0 is used by KL only. Softmaxes are max-shifted, so tiny T (0.01) is safe. */
float loss_kd(loss_kd_kind_t kind, const float *q_s, const float *q_t, const uint8_t *has_teacher,
              int B, int A, float T, float scale, float *dq);

/* Row-wise softmax(q / T) of q (B, A) into p (B, A), max-shifted. */
void loss_softmax(const float *q, int B, int A, float T, float *p);

#endif
