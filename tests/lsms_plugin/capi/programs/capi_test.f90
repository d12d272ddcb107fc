! The C API from an outside Fortran program through the installed module lsms_surrogate_f:
! queries, predictions equal to `lsms-surrogate predict` (pred.csv), error paths (missing file,
! wrong size, unknown species) and an incremental swap loop checked against full evaluations.
! Usage: capi_test_f <folder with model.h5, pred.csv>
program capi_test_f
  use, intrinsic :: iso_c_binding
  use lsms_surrogate_f
  implicit none
  integer, parameter :: max_rows = 64
  character(len=4096) :: dir
  type(c_ptr) :: h, missing
  integer(c_int) :: status, num_sites, num_species, num_models, tasks, supercell(3)
  integer :: failures, z, nrows, k, i
  character(len=8) :: symbol
  character(kind=c_char) :: kind(8)
  real(c_double) :: a, c
  integer(c_int), allocatable :: occ(:, :)
  real(c_double), allocatable, target :: e(:), es(:), q(:, :), m(:, :)
  real(c_double), allocatable :: e_ref(:), q_ref(:, :), m_ref(:, :)
  character(len=64) :: configs(max_rows)
  character(len=4096) :: path(1)  ! (gfortran 12 overruns [character(len=n) :: expr] here)

  failures = 0
  call get_command_argument(1, dir)
  if (len_trim(dir) == 0) stop "usage: capi_test_f <model folder>"

  ! A missing file: status, no handle, the file named in the message.
  path(1) = trim(dir)//"/none.h5"
  status = lsms_surrogate_open_f(path, "", 0, missing)
  call check(status == LSMS_SURROGATE_ERROR_FILE, "missing file status")
  call check(.not. c_associated(missing), "no handle for a missing file")
  call check(index(lsms_surrogate_open_error_f(), "none.h5") > 0, &
             "message names the file: "//lsms_surrogate_open_error_f())

  path(1) = trim(dir)//"/model.h5"
  status = lsms_surrogate_open_f(path, "auto", 1, h)
  if (status /= LSMS_SURROGATE_OK) then
    print *, "open failed: ", lsms_surrogate_open_error_f()
    stop 1
  end if

  call check(lsms_surrogate_num_sites(h, num_sites) == 0 .and. num_sites == 16, "num_sites")
  call check(lsms_surrogate_num_species(h, num_species) == 0 .and. num_species == 2, &
             "num_species")
  call check(lsms_surrogate_num_models(h, num_models) == 0 .and. num_models == 3, "num_models")
  call check(lsms_surrogate_tasks(h, tasks) == 0 .and. tasks == 7, "tasks")
  call check(lsms_surrogate_species_f(h, 1, z, symbol) == 0 .and. z == 79 .and. &
             symbol == "Au", "species 1 is Au (Z=79)")
  call check(lsms_surrogate_lattice(h, kind, 8, a, c, supercell) == 0, "lattice")
  call check(kind(1) == "f" .and. kind(2) == "c" .and. kind(3) == "c" .and. &
             kind(4) == c_null_char .and. abs(a - 7.2377d0) < 1d-12 .and. &
             all(supercell == [2, 2, 1]), "fcc a=7.2377 2x2x1")

  ! Predictions against `lsms-surrogate predict`.
  allocate (e_ref(max_rows), q_ref(num_sites, max_rows), m_ref(num_sites, max_rows))
  call read_predictions(trim(dir)//"/pred.csv", num_sites, nrows, configs, e_ref, q_ref, m_ref)
  call check(nrows >= 8, "rows of pred.csv")
  allocate (occ(num_sites, nrows), e(nrows), es(nrows), q(num_sites, nrows), &
            m(num_sites, nrows))
  do k = 1, nrows
    do i = 1, num_sites
      occ(i, k) = ichar(configs(k)(i:i)) - ichar("0")
    end do
  end do
  status = lsms_surrogate_evaluate(h, nrows, num_sites, occ, c_loc(e), c_loc(es), c_loc(q), &
                                   c_null_ptr, c_loc(m), c_null_ptr)
  call check(status == LSMS_SURROGATE_OK, "evaluate: "//lsms_surrogate_error_f(h))
  do k = 1, nrows
    call check(abs(e(k) - e_ref(k)) <= 2d-10 + 1d-7 * abs(e_ref(k)), &
               "energy of "//trim(configs(k)))
    call check(all(abs(q(:, k) - q_ref(:, k)) <= 1d-6 + 1d-7 * abs(q_ref(:, k))), &
               "charges of "//trim(configs(k)))
    call check(all(abs(m(:, k) - m_ref(:, k)) <= 1d-6 + 1d-7 * abs(m_ref(:, k))), &
               "moments of "//trim(configs(k)))
  end do
  print '(a, i0, a)', "pred.csv: ", nrows, " configurations reproduced from Fortran"

  ! Wrong size and unknown species.
  status = lsms_surrogate_evaluate(h, 1, num_sites - 1, occ, c_loc(e), c_null_ptr, c_null_ptr, &
                                   c_null_ptr, c_null_ptr, c_null_ptr)
  call check(status == LSMS_SURROGATE_ERROR_SIZE, "wrong number of sites")
  call check(index(lsms_surrogate_error_f(h), "16 sites") > 0, lsms_surrogate_error_f(h))
  occ(3, 1) = 2
  status = lsms_surrogate_evaluate(h, 1, num_sites, occ, c_loc(e), c_null_ptr, c_null_ptr, &
                                   c_null_ptr, c_null_ptr, c_null_ptr)
  call check(status == LSMS_SURROGATE_ERROR_SPECIES, "species index 2")
  call check(index(lsms_surrogate_error_f(h), "site 2") > 0, lsms_surrogate_error_f(h))
  occ(3, 1) = 0

  call swap_loop()
  call lsms_surrogate_close(h)
  if (failures > 0) then
    print '(i0, a)', failures, " checks failed"
    stop 1
  end if
  print '(a)', "all Fortran API checks passed"

contains

  subroutine check(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (.not. ok) then
      failures = failures + 1
      print '(a, a)', "check failed: ", what
    end if
  end subroutine

  ! Two walkers, 300 proposals; each proposed energy equals a full evaluation.
  subroutine swap_loop()
    integer(c_int), parameter :: walkers = 2
    integer(c_int) :: cur(16, walkers), trial(16, walkers), si(walkers), sj(walkers), t
    real(c_double), target :: e0(walkers), de(walkers), ep(walkers), full(walkers)
    real(c_double) :: r, current(walkers)
    integer :: step, w
    cur(:, 1) = occ(:, 3)
    cur(:, 2) = occ(:, 7)
    call check(lsms_surrogate_mc_set(h, walkers, 16, cur, c_loc(e0), c_null_ptr) == 0, &
               "mc_set: "//lsms_surrogate_error_f(h))
    current = e0
    do step = 1, 300
      do w = 1, walkers
        call random_number(r)
        si(w) = int(r * 16)
        call random_number(r)
        sj(w) = int(r * 16)
      end do
      call check(lsms_surrogate_mc_propose(h, si, sj, c_loc(de), c_loc(ep), c_null_ptr) == 0, &
                 "mc_propose: "//lsms_surrogate_error_f(h))
      trial = cur
      do w = 1, walkers
        t = trial(si(w) + 1, w)
        trial(si(w) + 1, w) = trial(sj(w) + 1, w)
        trial(sj(w) + 1, w) = t
      end do
      call check(lsms_surrogate_evaluate(h, walkers, 16, trial, c_loc(full), c_null_ptr, &
                                         c_null_ptr, c_null_ptr, c_null_ptr, c_null_ptr) == 0, &
                 "evaluate")
      do w = 1, walkers
        call check(abs(ep(w) - full(w)) <= 1d-9 + 1d-6 * abs(full(w)), "proposed energy")
        call check(abs(de(w) - (ep(w) - current(w))) <= 1d-9 * abs(current(w)), "delta")
        call random_number(r)
        if (r < 0.5d0) then
          call check(lsms_surrogate_mc_accept(h, w - 1) == 0, "accept")
          cur(:, w) = trial(:, w)
          current(w) = ep(w)
        end if
      end do
    end do
    print '(a)', "swap loop from Fortran: 600 proposals checked"
  end subroutine

  ! Rows of `lsms-surrogate predict -o file.csv`: configuration, energy, charges, moments.
  subroutine read_predictions(file, n_sites, n, configs, energy, charge, moment)
    character(len=*), intent(in) :: file
    integer(c_int), intent(in) :: n_sites
    integer, intent(out) :: n
    character(len=64), intent(out) :: configs(:)
    real(c_double), intent(out) :: energy(:), charge(:, :), moment(:, :)
    character(len=65536) :: line
    integer :: u, ios, first(16), last(16), nf
    open (newunit=u, file=file, status="old", action="read")
    n = 0
    do
      read (u, '(a)', iostat=ios) line
      if (ios /= 0) exit
      if (line(1:1) == "#" .or. line(1:7) == "source,") cycle
      call split(line, first, last, nf)
      if (nf < 10) cycle
      n = n + 1
      configs(n) = line(first(2):last(2))
      read (line(first(4):last(4)), *) energy(n)
      read (line(first(6):last(6)), *) charge(1:n_sites, n)
      read (line(first(8):last(8)), *) moment(1:n_sites, n)
    end do
    close (u)
  end subroutine

  ! Field k of a CSV line is line(first(k):last(k)), without its quotes.
  subroutine split(line, first, last, nf)
    character(len=*), intent(in) :: line
    integer, intent(out) :: first(:), last(:), nf
    logical :: quoted
    integer :: p
    quoted = .false.
    nf = 1
    first(1) = 1
    do p = 1, len_trim(line)
      if (line(p:p) == '"') then
        quoted = .not. quoted
      else if (line(p:p) == "," .and. .not. quoted .and. nf < size(first)) then
        last(nf) = p - 1
        nf = nf + 1
        first(nf) = p + 1
      end if
    end do
    last(nf) = len_trim(line)
    do p = 1, nf
      if (last(p) > first(p) .and. line(first(p):first(p)) == '"') then
        first(p) = first(p) + 1
        last(p) = last(p) - 1
      end if
    end do
  end subroutine

end program capi_test_f
