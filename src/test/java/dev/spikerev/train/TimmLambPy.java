package dev.spikerev.train;

/** Plain-torch transcription of timm 1.0.29 {@code timm/optim/lamb.py} (timm is not installed in the venv). */
final class TimmLambPy {
    private TimmLambPy() {}

    static final String SOURCE = """
            class Lamb(torch.optim.Optimizer):
                # transcribed from timm 1.0.29 timm/optim/lamb.py (helpers _get_value/_add_scaled_ inlined)
                def __init__(self, params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-6,
                             weight_decay=0.01, grad_averaging=True, max_grad_norm=1.0, trust_clip=False,
                             always_adapt=False, caution=False, decoupled_decay=False, corrected_weight_decay=False):
                    defaults = dict(lr=lr, bias_correction=bias_correction, betas=betas, eps=eps,
                                    weight_decay=weight_decay, grad_averaging=grad_averaging,
                                    max_grad_norm=max_grad_norm, trust_clip=trust_clip, always_adapt=always_adapt,
                                    caution=caution, decoupled_decay=decoupled_decay,
                                    corrected_weight_decay=corrected_weight_decay)
                    super().__init__(params, defaults)

                def __setstate__(self, state):
                    super().__setstate__(state)
                    for group in self.param_groups:
                        group.setdefault('caution', False)
                        group.setdefault('decoupled_decay', False)
                        group.setdefault('corrected_weight_decay', False)

                def _get_clip_grad_norm(self):
                    max_grad_norm = self.defaults['max_grad_norm']
                    if max_grad_norm is None:
                        return None
                    norms = []
                    for group in self.param_groups:
                        for p in group['params']:
                            if p.grad is None:
                                continue
                            norms.append(torch.linalg.vector_norm(p.grad))
                    global_norm = torch.linalg.vector_norm(torch.stack(norms))
                    return (global_norm / max_grad_norm).clamp_(min=1.0)

                @torch.no_grad()
                def step(self, closure=None):
                    clip_grad_norm = self._get_clip_grad_norm()
                    for group in self.param_groups:
                        bias_correction = 1 if group['bias_correction'] else 0
                        beta1, beta2 = group['betas']
                        grad_averaging = 1 if group['grad_averaging'] else 0
                        beta3 = 1 - beta1 if grad_averaging else 1.0
                        if 'step' not in group:
                            group['step'] = torch.tensor(0.0, dtype=torch.float32)
                        group['step'].add_(1)
                        if not any(p.grad is not None for p in group['params']):
                            continue
                        step = group['step'].item()
                        if bias_correction:
                            bias_correction1 = 1 - beta1 ** step
                            bias_correction2 = 1 - beta2 ** step
                        else:
                            bias_correction1, bias_correction2 = 1.0, 1.0
                        for p in group['params']:
                            if p.grad is None:
                                continue
                            grad = p.grad
                            if clip_grad_norm is not None:
                                grad.div_(clip_grad_norm)
                            state = self.state[p]
                            if len(state) == 0:
                                state['exp_avg'] = torch.zeros_like(p)
                                state['exp_avg_sq'] = torch.zeros_like(p)
                            exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                            exp_avg.mul_(beta1).add_(grad, alpha=beta3)
                            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                            denom = (exp_avg_sq.sqrt() / (bias_correction2 ** 0.5)).add_(group['eps'])
                            update = (exp_avg / bias_correction1).div_(denom)
                            if group['caution']:
                                mask = (update * grad > 0).to(grad.dtype)
                                mask.div_(mask.mean().clamp_(min=1e-3))
                                update.mul_(mask)
                            weight_decay = group['weight_decay']
                            if weight_decay != 0:
                                if group.get('decoupled_decay', False):
                                    if group['corrected_weight_decay']:
                                        wd_scale = group['lr'] ** 2 / self.defaults['lr']
                                    else:
                                        wd_scale = group['lr']
                                    p.add_(p, alpha=-wd_scale * weight_decay)
                                else:
                                    update.add_(p, alpha=weight_decay)
                            if weight_decay != 0 or group['always_adapt']:
                                w_norm = p.norm(2.0)
                                g_norm = update.norm(2.0)
                                trust_ratio = w_norm / g_norm
                                trust_ratio = torch.where(w_norm > 0, torch.where(g_norm > 0, trust_ratio, 1.0), 1.0)
                                if group['trust_clip']:
                                    trust_ratio = torch.clamp(trust_ratio, max=1.0)
                                update.mul_(trust_ratio)
                            p.add_(update, alpha=-group['lr'])
            """;
}
