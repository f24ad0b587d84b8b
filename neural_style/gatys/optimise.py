"""The optimisation of the image, epoch by epoch: the loss being minimised (StyleLoss, set up by
gatys/loss.py), the original's loop of NAG (or Adam) steps, and scipy's L-BFGS-B. Both loops
evaluate the StyleLoss and tell `watch` about every epoch.

`watch` is the one way out of a loop (gatys/run.py's EpochWatch, or a caller's own):
    watch.check_stop(epochs_done)            before each epoch (and each L-BFGS evaluation): it
                                             raises to stop the run (a stop signal, the API's stop)
    watch.epoch_done(epoch, eps, img, losses) after each epoch: checkpoints, progress, callbacks;
                                             losses() gives the epoch's named losses when needed
A loop owns its bounds: epochs first_epoch ... first_epoch + num_epochs - 1 (numbered across
--multires stages), and raises Diverged when the image or the loss stops being finite."""
import logging

import numpy as np

from neural_style.mxnet_runtime import mx


class Diverged(Exception):
    """The image (NAG, Adam) or the loss (L-BFGS) became NaN or infinite at `epoch`."""

    def __init__(self, what, epoch, advice):
        super().__init__('the %s became NaN or infinite at epoch %d' % (what, epoch))
        self.what, self.epoch, self.advice = what, epoch, advice


class StyleLoss:
    """The bound loss of one size. Its executor's outputs are the style losses (Gram or MRF, one a
    layer), then the content loss; `grad_array` the head gradients that weight them in the
    backward pass, `loss_weights` the same weights as numbers. `terms` are image-space terms whose
    gradients the loops add to the executor's input gradient (TVTerm; a video adds its temporal
    term with add_term); `hooks` run at each epoch's start (the MRF loss's re-matching)."""

    def __init__(self, executor, loss_weights, style_count, terms=(), hooks=(), style_name='style'):
        self.executor = executor  # model_vgg19's Executor: .executor, .data, .data_grad, .arg_dict
        self.loss_weights = loss_weights
        self.grad_array = [mx.nd.ones((1,), executor.data.context) * weight for weight in loss_weights]
        self.style_count = style_count
        self.terms = list(terms)
        self.hooks = tuple(hooks)
        self.style_name = style_name  # what the style losses are reported as: style, or mrf

    @property
    def image(self):
        """The image the loss is evaluated at: the executor's input array."""
        return self.executor.data

    def add_term(self, term):
        self.terms.append(term)

    def start_epoch(self):
        """At the start of each epoch (an L-BFGS iteration), with its image in self.image: run the
        hooks (the MRF loss re-matches there on the epochs it re-matches). Returns whether the loss
        changed: an optimiser with memory of the loss (L-BFGS) must then start again."""
        changed = [hook() for hook in self.hooks]  # every hook runs
        return any(changed)

    def forward_backward(self):
        """The losses and their input gradient (self.executor.data_grad) at self.image."""
        self.executor.executor.forward()
        self.executor.executor.backward(self.grad_array)

    def terms_gradient(self):
        """The summed gradient of the image-space terms at self.image, or None."""
        gradients = [term.gradient() for term in self.terms]
        return sum(gradients[1:], gradients[0]) if gradients else None

    def names(self):
        """The names named_losses gives: content, style (or mrf), tv (0 when off) and each other term's."""
        names = ['content', self.style_name] + [term.name for term in self.terms]
        return names if 'tv' in names else names[:2] + ['tv'] + names[2:]

    def named_losses(self):
        """[(name, loss)] (names()): weighted as in the gradient, in float64, after forward_backward
        and terms_gradient at the same image. The content and style losses are the executor's
        outputs times their weights (0 when not built)."""
        losses = [weight * float(output.asnumpy()[0])
                  for weight, output in zip(self.loss_weights, self.executor.executor.outputs)]
        values = {term.name: term.energy() for term in self.terms}
        values.update({'content': sum(losses[self.style_count:]), self.style_name: sum(losses[:self.style_count])})
        return [(name, values.get(name, 0.0)) for name in self.names()]


def step_optimizer(settings):
    """The MXNet optimizer of --optimizer nag (the original's) or adam. Both get the same learning-rate
    schedule and weight decay, so that those flags mean the same for both."""
    # base_lr given here, as the optimizer would set it, so that MXNet does not print that it overrode it
    lr = mx.lr_scheduler.FactorScheduler(step=settings.lr_sched_delay, factor=settings.lr_sched_factor,
                                         base_lr=settings.lr)
    if settings.optimizer == 'adam':
        return mx.optimizer.Adam(learning_rate=settings.lr, wd=0.0001, lr_scheduler=lr)
    return mx.optimizer.NAG(
        learning_rate=settings.lr,
        wd=0.0001,
        momentum=0.95,
        lr_scheduler=lr)


def optimize_steps(settings, loss, img, epochs, watch):
    """The original's loop: a step of the optimizer (NAG, or Adam) per epoch on the clipped loss
    gradient plus the image terms' (TV) gradient, stopping when the image changes by less than
    --stop-eps. epochs: (first epoch, how many). Updates img in place; returns the epochs done."""
    first_epoch, num_epochs = epochs
    executor = loss.executor
    optimizer = step_optimizer(settings)
    optim_state = optimizer.create_state(0, img)

    # one buffer each, written in place every epoch (out=): an epoch allocates no image-sized arrays, so
    # the heap does not fragment as the run goes on; broadcast_add and broadcast_sub are what + and - do
    old_img = img.copyto(img.context)
    step_gradient = mx.nd.zeros(img.shape, ctx=img.context)
    change = mx.nd.zeros(img.shape, ctx=img.context)
    clip_norm = 1 * np.prod(img.shape)
    epochs_done = 0
    for e in range(first_epoch, first_epoch + num_epochs):
        watch.check_stop(e)
        img.copyto(executor.data)
        loss.start_epoch()
        loss.forward_backward()
        gnorm = mx.nd.norm(executor.data_grad).asscalar()
        if gnorm > clip_norm:
            executor.data_grad[:] *= clip_norm / gnorm

        terms = loss.terms_gradient()
        if terms is not None:
            mx.nd.broadcast_add(executor.data_grad, terms, out=step_gradient)
        optimizer.update(0, img, step_gradient if terms is not None else executor.data_grad, optim_state)
        epochs_done += 1
        mx.nd.broadcast_sub(old_img, img, out=change)
        eps = (mx.nd.norm(change) / mx.nd.norm(img)).asscalar()
        img.copyto(old_img)
        logging.info('epoch %d, relative change %f', e, eps)
        if not np.isfinite(eps):
            raise Diverged('image', e, 'a smaller --lr or smaller loss weights')
        if eps < settings.stop_eps:
            logging.info('eps < args.stop_eps, training finished')
            break
        # the executor still holds the image this epoch's gradient was computed at (before its step)
        watch.epoch_done(e + 1, eps, img, loss.named_losses)
    return epochs_done


def lbfgs_objective(loss):
    """The function L-BFGS minimises, over the image's pixels as a flat float64 vector x:
    objective(x) -> (f, gradient, losses). f is the weighted losses plus the image terms' energies
    (named_losses; losses: their values, content, style, tv ...), its gradient the loss
    executor's input gradient plus the terms' gradients, not clipped: clipping would make f and its
    gradient disagree. MXNet computes in float32."""
    executor = loss.executor

    def objective(x):
        executor.data[:] = x.reshape(executor.data.shape)
        loss.forward_backward()
        gradient = executor.data_grad.asnumpy().astype(np.float64)
        terms = loss.terms_gradient()
        if terms is not None:
            gradient += terms.asnumpy()
        named = loss.named_losses()
        return sum(value for _, value in named), gradient.ravel(), tuple(value for _, value in named)
    return objective


class StopLbfgs(Exception):
    """Raised inside scipy's L-BFGS-B to stop it by a rule of ours; the message says which."""


class LossChanged(Exception):
    """Raised inside scipy's L-BFGS-B when the loss changed at an iterate (the MRF loss re-matched):
    its memory of the old loss's gradients and values no longer holds, so it starts again there."""


def optimize_lbfgs(settings, loss, img, epochs, watch):
    """scipy's L-BFGS-B on the image's pixels (lbfgs_objective). An epoch is an L-BFGS iteration for
    the log, the checkpoints, --print-epochs and the callback, but the epoch budget counts function
    evaluations (one forward and backward each, the cost of a NAG epoch): a line search can take
    several per iteration. It stops at scipy's own tests (no more decrease of f, even in the line
    search, or a gradient of ~0) or when the budget is spent, not on --stop-eps: the change of one
    iteration jumps up and down by 10x (measured), so a small one says little. Each iteration
    starts an epoch (loss.start_epoch): where that changes the loss (the MRF loss re-matches),
    L-BFGS starts again from that iterate, so that within a run of it the loss stays one smooth
    function. Sets img to each new iterate and returns the number of iterations."""
    import scipy.optimize  # only L-BFGS runs pay for its import
    first_epoch, budget = epochs
    objective = lbfgs_objective(loss)
    names = loss.names()
    iterate = img.asnumpy().astype(np.float64).ravel()  # the last accepted image
    iteration, evaluations = first_epoch, 0
    evaluated = (None, None)  # the last evaluated x and its losses

    def value_and_gradient(x):
        nonlocal evaluations, evaluated
        watch.check_stop(iteration)
        if evaluations == budget:  # scipy's maxfun lets the line search finish first
            raise StopLbfgs('the budget of %d function evaluations is spent' % budget)
        evaluations += 1
        value, gradient, losses = objective(x)
        if not (np.isfinite(value) and np.isfinite(gradient).all()):
            raise Diverged('loss', iteration, 'smaller loss weights')
        evaluated = (x.copy(), losses)
        return value, gradient

    def after_iteration(x):
        nonlocal iterate, iteration
        eps = np.linalg.norm(x - iterate) / np.linalg.norm(x)
        iterate = x.copy()
        img[:] = x.reshape(img.shape)
        logging.info('epoch %d, relative change %f', iteration, eps)
        iteration += 1
        if not np.array_equal(evaluated[0], x):  # the losses logged must be x's: L-BFGS-B accepts
            value_and_gradient(x)                # the point it evaluated last, but should it not, evaluate x
        watch.epoch_done(iteration, eps, img, lambda: list(zip(names, evaluated[1])))
        if evaluations < budget and starts_epoch(x):
            raise LossChanged()

    def starts_epoch(x):
        """loss.start_epoch at x; without hooks (the Gram loss) nothing happens and the loss stays."""
        if not loss.hooks:
            return False
        loss.image[:] = x.reshape(img.shape)
        return loss.start_epoch()

    starts_epoch(iterate)
    while True:
        try:
            result = scipy.optimize.minimize(value_and_gradient, iterate, jac=True, method='L-BFGS-B',
                                             callback=after_iteration,
                                             options={'maxfun': budget - evaluations, 'maxiter': budget,
                                                      'maxcor': settings.lbfgs_num_correction})
            reason = result.message
        except LossChanged:
            continue  # from the iterate where the loss changed, with no memory of the old one
        except StopLbfgs as stop:
            reason = str(stop)
        break
    logging.info('L-BFGS stopped after %d iterations and %d function evaluations: %s',
                 iteration - first_epoch, evaluations, reason)
    return iteration - first_epoch


def optimize(settings, loss, img, epochs, watch):
    """--optimizer: L-BFGS, or the loop of NAG or Adam steps. epochs: (first epoch, how many)."""
    return (optimize_lbfgs if settings.optimizer == 'lbfgs' else optimize_steps)(settings, loss, img, epochs, watch)
